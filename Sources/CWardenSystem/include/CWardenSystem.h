#ifndef WARDEN_CWARDENSYSTEM_H
#define WARDEN_CWARDENSYSTEM_H

#include <sys/types.h>

/// Spawns `path` with `argv`, an empty environment, and no open descriptors but `child_fd`, which it gets as fd 3.
/// Returns 0 and sets *pid, or an errno value.
int warden_spawn_with_socket(const char *path, char *const argv[], int child_fd, pid_t *pid);

/// Hands the C allocator's free memory back to the system (glibc's `malloc_trim(0)`, which Swift's Glibc module does
/// not declare). Returns 1 when some was released.
int warden_trim_heap(void);

#endif
