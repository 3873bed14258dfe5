/* Stack high-water mark for the emulated cams: the 64 KiB below the stack pointer are painted,
 * and the deepest word no longer holding the paint tells how much stack ran since. */
#ifndef QEMU_CAM_STACK_H
#define QEMU_CAM_STACK_H
#include <stdint.h>

/* Paints the stack below the caller; call once, early. */
void stack_paint(void);
/* Bytes of the painted stack used since stack_paint(). */
uint32_t stack_used(void);

#endif
