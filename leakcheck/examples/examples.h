/*
 * examples.h — one helper shared by the example programs.
 *
 * At -O2 a compiler may delete a malloc whose block is never read, and a
 * store to a static that nothing reads; then the optimised example no
 * longer leaks what its source says.  keep(p) makes p escape into an
 * empty asm statement, which forbids both, and costs nothing.
 */
#ifndef LEAK_EXAMPLES_H
#define LEAK_EXAMPLES_H

static inline void keep(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

#endif
