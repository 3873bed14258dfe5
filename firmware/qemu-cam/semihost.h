/* ARM semihosting (QEMU `-semihosting-config enable=on,target=native`). */
#ifndef QEMU_CAM_SEMIHOST_H
#define QEMU_CAM_SEMIHOST_H
#include <stdint.h>
#include <stddef.h>

/* End QEMU; `code` becomes qemu-system-arm's exit status (low 8 bits). */
__attribute__((noreturn)) void semihost_exit(int code);
/* Print a NUL-terminated string on QEMU's stdout (diagnostics only; slow). */
void semihost_puts(const char *s);
/* Print "label0x%08x\n". */
void semihost_put_hex(const char *label, uint32_t v);
/* Guest command line (from `-semihosting-config ...,arg=A,arg=B`, joined by
 * spaces) into buf; returns its length, or -1 if unavailable. */
int semihost_cmdline(char *buf, size_t len);

#endif
