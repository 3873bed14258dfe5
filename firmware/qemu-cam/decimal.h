/* Decimal text of a u32 without a C library's printf (the emulated cams have none). */
#ifndef QEMU_CAM_DECIMAL_H
#define QEMU_CAM_DECIMAL_H
#include <stdint.h>

/* Writes v's digits at the end of buf and returns where they start (NUL-terminated). */
static inline const char *u32_decimal(uint32_t v, char buf[11])
{
    int i = 10;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return buf + i;
}

#endif
