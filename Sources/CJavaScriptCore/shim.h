#ifndef WARDEN_CJAVASCRIPTCORE_SHIM_H
#define WARDEN_CJAVASCRIPTCORE_SHIM_H

#include <JavaScriptCore/JavaScript.h>
#include <stdbool.h>

// Exported by libjavascriptcoregtk but declared only in JSContextRefPrivate.h, which the -dev package does not ship.
// Declared weak so that a library without them still loads; JavaScriptSandbox checks for NULL and says so.

/// Called when the execution time limit of a context group is reached. Return true to terminate the script.
typedef bool (*JSShouldTerminateCallback)(JSContextRef ctx, void *context);

JS_EXPORT void JSContextGroupSetExecutionTimeLimit(JSContextGroupRef group, double limit,
                                                   JSShouldTerminateCallback callback, void *context)
    __attribute__((weak));
JS_EXPORT void JSContextGroupClearExecutionTimeLimit(JSContextGroupRef group) __attribute__((weak));
JS_EXPORT void JSGlobalContextSetEvalEnabled(JSGlobalContextRef ctx, bool enabled, JSStringRef message)
    __attribute__((weak));
/// A full collection that has finished when it returns (JSGarbageCollect only hints). From JSBasePrivate.h.
JS_EXPORT void JSSynchronousGarbageCollectForDebugging(JSContextRef ctx) __attribute__((weak));
/// The VM's heap figures (heapSize, extraMemorySize, ...) as an object. From JSBasePrivate.h.
JS_EXPORT JSObjectRef JSGetMemoryUsageStatistics(JSContextRef ctx) __attribute__((weak));

/// The library's version, from its GLib API (jsc/jsc.h, not included here: it pulls in GLib's headers).
unsigned int jsc_get_major_version(void) __attribute__((weak));
unsigned int jsc_get_minor_version(void) __attribute__((weak));
unsigned int jsc_get_micro_version(void) __attribute__((weak));

/// A full, finished collection when the library has the call; otherwise the public hint.
static inline void warden_jsc_collect_now(JSContextRef ctx) {
    if (JSSynchronousGarbageCollectForDebugging != NULL) {
        JSSynchronousGarbageCollectForDebugging(ctx);
    } else {
        JSGarbageCollect(ctx);
    }
}

/// The statistics object, or NULL when the library does not have the call.
static inline JSObjectRef warden_jsc_memory_statistics(JSContextRef ctx) {
    return JSGetMemoryUsageStatistics != NULL ? JSGetMemoryUsageStatistics(ctx) : NULL;
}

/// The library's version as major, minor, micro; false when it does not say.
static inline bool warden_jsc_version(unsigned int *major, unsigned int *minor, unsigned int *micro) {
    if (jsc_get_major_version == NULL || jsc_get_minor_version == NULL || jsc_get_micro_version == NULL) {
        return false;
    }
    *major = jsc_get_major_version();
    *minor = jsc_get_minor_version();
    *micro = jsc_get_micro_version();
    return true;
}

/// True when every private symbol above resolved.
static inline bool warden_jsc_private_api_available(void) {
    return JSContextGroupSetExecutionTimeLimit != NULL && JSContextGroupClearExecutionTimeLimit != NULL &&
           JSGlobalContextSetEvalEnabled != NULL;
}

#endif
