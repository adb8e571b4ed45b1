#define _GNU_SOURCE
#include <malloc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include "CProcess.h"

int thumbnail_die_with_parent(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }

int thumbnail_set_dumpable(void) { return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); }

int thumbnail_ppoll(struct pollfd *fds, nfds_t count, int timeout_ms, const sigset_t *mask) {
    struct timespec timeout = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
    return ppoll(fds, count, timeout_ms < 0 ? NULL : &timeout, mask);
}

int thumbnail_signalfd(const sigset_t *mask) { return signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK); }

int thumbnail_trim_heap(void) { return malloc_trim(0); }

int thumbnail_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }
