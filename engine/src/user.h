/*
 * user.h — the C library the engine's tasks run: umalloc in its simulated
 * world (um_sim.c), above the kernel. Its runtime table is what machine.c
 * registers as m->user_rt (mm.h).
 */
#ifndef RA_USER_H
#define RA_USER_H

#include "oom.h"

extern const struct ra_user_runtime um_sim_runtime;

#endif /* RA_USER_H */
