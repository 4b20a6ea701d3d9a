// The worker runtime: executor processes, wire protocol, worker prelude, TypeScript compilation.
