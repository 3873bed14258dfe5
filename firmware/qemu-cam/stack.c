#include "stack.h"

#define PAINT 0xC0FFEE11u
#define PAINT_WORDS (65536u / 4u)
static uint32_t *paint_top;

void stack_paint(void)
{
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    paint_top = sp - 16; /* leave this frame alone */
    for (uint32_t *p = paint_top - PAINT_WORDS; p < paint_top; p++)
        *p = PAINT;
}

uint32_t stack_used(void)
{
    uint32_t *p = paint_top - PAINT_WORDS;
    while (p < paint_top && *p == PAINT)
        p++;
    return (uint32_t)((paint_top - p) * 4u);
}
