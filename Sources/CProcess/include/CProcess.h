// What the listening server needs of Linux that Swift's Glibc module leaves
// out: GNU extensions, and prctl, which is variadic.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

/// prctl(PR_SET_PDEATHSIG): `signal` is sent to this process when its parent dies.
int thumbnail_die_with_parent(int signal);

/// prctl(PR_SET_DUMPABLE, 1): the process's /proc files its own user's again.
int thumbnail_set_dumpable(void);

/// ppoll(2) with a timeout in milliseconds (negative: none) and `mask` as the
/// signal mask while it waits.
int thumbnail_ppoll(struct pollfd *fds, nfds_t count, int timeout_ms, const sigset_t *mask);

/// signalfd(2) for `mask`, close-on-exec and non-blocking.
int thumbnail_signalfd(const sigset_t *mask);

/// malloc_trim(3): the free memory at the top of the heap and in its
/// middle given back to the kernel.
int thumbnail_trim_heap(void);

/// memfd_create(2): an anonymous file, close-on-exec.
int thumbnail_memfd(const char *name);
