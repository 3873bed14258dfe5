/* The four memory routines GCC and the Rust staticlib call implicitly
 * (no libc is linked). The Makefile builds everything with
 * -fno-tree-loop-distribute-patterns, otherwise GCC would turn these very
 * loops back into calls to memcpy/memset (infinite recursion). */
#include <stddef.h>
#include <stdint.h>

#define ALIGNED4(p) (((uintptr_t)(p) & 3u) == 0)

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (ALIGNED4(d) && ALIGNED4(s)) {
        for (; n >= 4; n -= 4, d += 4, s += 4)
            *(uint32_t *)d = *(const uint32_t *)s;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d == s || n == 0)
        return dst;
    if (d < s || d >= s + n)
        return memcpy(dst, src, n);   /* no harmful overlap */
    while (n--)                       /* overlapping, dst above src: go backwards */
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    uint32_t w = (uint8_t)c * 0x01010101u;
    while (n && !ALIGNED4(d)) {
        *d++ = (uint8_t)c;
        n--;
    }
    for (; n >= 4; n -= 4, d += 4)
        *(uint32_t *)d = w;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

/* ARM EABI aliases that LLVM emits. Rust's compiler_builtins also defines
 * them, so ours are weak: whichever strong definition exists wins, and a
 * C-only build still links. Note __aeabi_memset's (dst, n, c) order. */
__attribute__((weak)) void __aeabi_memcpy(void *d, const void *s, size_t n) { memcpy(d, s, n); }
__attribute__((weak)) void __aeabi_memcpy4(void *d, const void *s, size_t n) { memcpy(d, s, n); }
__attribute__((weak)) void __aeabi_memcpy8(void *d, const void *s, size_t n) { memcpy(d, s, n); }
__attribute__((weak)) void __aeabi_memmove(void *d, const void *s, size_t n) { memmove(d, s, n); }
__attribute__((weak)) void __aeabi_memmove4(void *d, const void *s, size_t n) { memmove(d, s, n); }
__attribute__((weak)) void __aeabi_memmove8(void *d, const void *s, size_t n) { memmove(d, s, n); }
__attribute__((weak)) void __aeabi_memset(void *d, size_t n, int c) { memset(d, c, n); }
__attribute__((weak)) void __aeabi_memset4(void *d, size_t n, int c) { memset(d, c, n); }
__attribute__((weak)) void __aeabi_memset8(void *d, size_t n, int c) { memset(d, c, n); }
__attribute__((weak)) void __aeabi_memclr(void *d, size_t n) { memset(d, 0, n); }
__attribute__((weak)) void __aeabi_memclr4(void *d, size_t n) { memset(d, 0, n); }
__attribute__((weak)) void __aeabi_memclr8(void *d, size_t n) { memset(d, 0, n); }
