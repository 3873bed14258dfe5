/* ARM semihosting: the guest executes `bkpt 0xAB` (Thumb) with the operation
 * in r0 and an argument (pointer to a parameter block) in r1; QEMU traps it
 * and performs the call on the host. Without semihosting enabled the bkpt
 * becomes a HardFault, so run-qemu.sh always enables it. */
#include "semihost.h"

#define SYS_WRITE0        0x04
#define SYS_GET_CMDLINE   0x15
#define SYS_EXIT_EXTENDED 0x20   /* like SYS_EXIT (0x18) but takes {reason, code} */
#define ADP_Stopped_ApplicationExit 0x20026

static int semihost_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void semihost_exit(int code)
{
    /* AArch32 SYS_EXIT only carries the reason (exit status 0 or 1); the
     * extended form carries the application's status as a subcode. */
    const uint32_t block[2] = { ADP_Stopped_ApplicationExit, (uint32_t)code };
    semihost_call(SYS_EXIT_EXTENDED, block);
    for (;;) { }
}

void semihost_puts(const char *s) { semihost_call(SYS_WRITE0, s); }

void semihost_put_hex(const char *label, uint32_t v)
{
    char buf[12] = "0x";
    for (int i = 0; i < 8; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
    buf[10] = '\n';
    buf[11] = 0;
    semihost_puts(label);
    semihost_puts(buf);
}

int semihost_cmdline(char *buf, size_t len)
{
    uint32_t block[2] = { (uint32_t)(uintptr_t)buf, (uint32_t)len };
    if (semihost_call(SYS_GET_CMDLINE, block) != 0)
        return -1;
    return (int)block[1];   /* QEMU writes back the length (without NUL) */
}
