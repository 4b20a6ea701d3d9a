#ifndef WARDEN_CWARDENSYSTEM_H
#define WARDEN_CWARDENSYSTEM_H

#include <sys/types.h>

/// Spawns `path` with `argv`, an empty environment, and no open descriptors but `child_fd`, which it gets as fd 3.
/// Returns 0 and sets *pid, or an errno value.
int warden_spawn_with_socket(const char *path, char *const argv[], int child_fd, pid_t *pid);

#endif
