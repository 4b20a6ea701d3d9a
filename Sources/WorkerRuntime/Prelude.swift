import RunModel
/// JavaScript that every worker context evaluates before the worker's module.
///
/// It is a function taking the host object (Swift functions) and returning `{run, freeze}`; nothing of the host is
/// left reachable from the worker's globals. The built-ins it uses are captured before worker code runs, so a
/// worker that changes them at module level harms only itself.
enum Prelude {
    static let sourceURL = "warden-prelude"
    static let workerURL = "warden-worker"

    static let source = #"""
        (function (host) {
          'use strict';
          const G = globalThis;
          const freeze = Object.freeze, defineProperty = Object.defineProperty, getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
          const getPrototypeOf = Object.getPrototypeOf, ownKeys = Reflect.ownKeys, keys = Object.keys, fromEntries = Object.fromEntries;
          const parse = JSON.parse, stringify = JSON.stringify, Str = String, ErrorCtor = Error, TypeErrorCtor = TypeError;
          const PromiseCtor = Promise, MapCtor = Map, SetCtor = Set, hasOwn = Object.prototype.hasOwnProperty, create = Object.create;
          const stackLine = /@warden-worker:(\d+):\d+/;
          const regexpExec = RegExp.prototype.exec, call = Function.prototype.call;
          const has = (o, k) => call.call(hasOwn, o, k);

          // Status enums of spec §4, shaped like TypeScript numeric enums (with reverse mapping).
          const numericEnum = (pairs) => {
            const e = {};
            for (const [name, value] of pairs) { e[name] = value; e[value] = name; }
            return freeze(e);
          };
          const statusEnum = (prefix) => numericEnum([[prefix + 'UNSPECIFIED', 0], [prefix + 'PROCEED', 1], [prefix + 'STOP', 2], [prefix + 'WARN', 3], ['UNRECOGNIZED', -1]]);
          const enums = {
            DownloadStatus: statusEnum('DOWNLOAD_'),
            UploadStatus: statusEnum('UPLOAD_'),
            ActionStatus: statusEnum(''),
            BeforeDeleteStatus: statusEnum('BEFORE_DELETE_'),
            BeforePropertyCreateStatus: statusEnum('BEFORE_PROPERTY_CREATE_'),
            CreateTokenStatus: statusEnum('CREATE_TOKEN_'),
            RevokeTokenStatus: statusEnum('REVOKE_TOKEN_'),
            Status: numericEnum([['STATUS_UNSPECIFIED', 0], ['STATUS_FAIL', 2], ['STATUS_SUCCESS', 4], ['UNRECOGNIZED', -1]]),
            RepoType: numericEnum([['REPO_TYPE_UNSPECIFIED', 0], ['REPO_TYPE_LOCAL', 1], ['REPO_TYPE_REMOTE', 2], ['REPO_TYPE_FEDERATED', 3], ['UNRECOGNIZED', -1]]),
          };
          for (const name of keys(enums)) defineProperty(G, name, { value: enums[name], enumerable: false });

          // console: JSC's own discards output.
          const format = (a) => {
            try {
              if (typeof a === 'string') return a;
              if (a === undefined) return 'undefined';
              if (typeof a === 'function') return '[Function]';
              if (typeof a === 'symbol' || typeof a === 'bigint') return Str(a);
              if (a instanceof ErrorCtor) return Str(a.name) + ': ' + Str(a.message);
              const json = stringify(a);
              return json === undefined ? Str(a) : json;
            } catch (e) {
              try { return Str(a); } catch (_) { return '[unprintable value]'; }
            }
          };
          const logger = (level) => function (...args) {
            let message = '';
            for (let i = 0; i < args.length; i++) message += (i ? ' ' : '') + format(args[i]);
            host.log(level, message);
          };
          defineProperty(G, 'console', { value: freeze({
            log: logger('info'), info: logger('info'), warn: logger('warn'), error: logger('error'), debug: logger('debug'), trace: logger('debug'),
          }), enumerable: false });

          // What the history shows of a thrown value. Every access is guarded: the value may be hostile.
          const describe = (e) => {
            let type = 'Error', message = '', line = 0;
            if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
              try { const n = e.name; if (typeof n === 'string' && n) type = n; } catch (_) {}
              try {
                const m = e.message;
                message = typeof m === 'string' ? m : Str(e);
              } catch (_) { message = 'an error whose message could not be read'; }
              try {
                const s = e.stack;
                const hit = typeof s === 'string' ? call.call(regexpExec, stackLine, s) : null;
                if (hit) line = +hit[1];
              } catch (_) {}
            } else {
              try { message = 'a non-error value was thrown: ' + Str(e); } catch (_) { message = 'an unprintable value was thrown'; }
            }
            return { type: Str(type).slice(0, 200), message: Str(message).slice(0, 4000), line };
          };

          // Host calls answer with {status, headers, body}; the client shapes the response the way workers expect.
          const header = (headers, name) => {
            for (const k of keys(headers || {})) if (k.toLowerCase() === name) return Str(headers[k]);
            return '';
          };
          const send = (kind, method, target, headers, body) => {
            let payload;
            try {
              const b = body === undefined || body === null ? null : typeof body === 'string' ? { text: body } : { json: body };
              payload = stringify({ method: Str(method || 'GET').toUpperCase(), url: Str(target), headers: headers || {}, body: b });
            } catch (e) {
              return PromiseCtor.reject(new TypeErrorCtor('request could not be encoded: ' + describe(e).message));
            }
            return host.call(kind, payload).then((text) => {
              const r = parse(text);
              let data = r.body;
              if (typeof data === 'string' && header(r.headers, 'content-type').includes('json')) {
                try { data = parse(data); } catch (_) {}
              }
              const response = { status: r.status, statusText: r.statusText || '', headers: r.headers || {}, data };
              const failed = kind === 'platformHttp' ? r.status >= 400 : r.status < 200 || r.status > 299;
              if (failed) {
                const error = new ErrorCtor('Request failed with status code ' + r.status);
                error.status = r.status;
                error.response = response;
                throw error;
              }
              return response;
            });
          };
          const platformHttp = freeze({
            request: (method, path, headers, data) => send('platformHttp', method, path, headers, data),
            get: (path, headers) => send('platformHttp', 'GET', path, headers),
            delete: (path, headers) => send('platformHttp', 'DELETE', path, headers),
            post: (path, data, headers) => send('platformHttp', 'POST', path, headers, data),
            put: (path, data, headers) => send('platformHttp', 'PUT', path, headers, data),
            patch: (path, data, headers) => send('platformHttp', 'PATCH', path, headers, data),
          });
          const axiosHeaders = (config) => (config && config.headers) || {};
          const axios = freeze({
            request: (config) => send('axios', config && config.method, config && config.url, axiosHeaders(config), config && config.data),
            get: (url, config) => send('axios', 'GET', url, axiosHeaders(config)),
            head: (url, config) => send('axios', 'HEAD', url, axiosHeaders(config)),
            delete: (url, config) => send('axios', 'DELETE', url, axiosHeaders(config)),
            post: (url, data, config) => send('axios', 'POST', url, axiosHeaders(config), data),
            put: (url, data, config) => send('axios', 'PUT', url, axiosHeaders(config), data),
            patch: (url, data, config) => send('axios', 'PATCH', url, axiosHeaders(config), data),
          });
          const clients = freeze({ platformHttp, axios });
          const crypto = freeze({
            hash: (algorithm, data, encoding) => host.hash(Str(algorithm), Str(data), encoding === undefined ? 'hex' : Str(encoding)),
            hmac: (algorithm, key, data, encoding) => host.hmac(Str(algorithm), Str(key), Str(data), encoding === undefined ? 'hex' : Str(encoding)),
            randomBytes: (count, encoding) => host.randomBytes(+count, encoding === undefined ? 'hex' : Str(encoding)),
          });
          const wait = (ms) => host.wait(+ms || 0);
          const remaining = () => host.remaining();

          // context.state: at most 10 items, keys up to 40 characters, values up to 250 (non-strings kept as JSON).
          // Kept in a prototype-less object and read with captured built-ins only: module code runs before the
          // built-ins are frozen and may have replaced Map's or Object's methods. The server checks the limits again.
          const makeState = (initial) => {
            let items = create(null), count = 0;
            for (const k of keys(initial)) { items[k] = Str(initial[k]); count++; }
            const present = (key) => has(items, key);
            const copy = () => {
              const out = {};
              for (const k of keys(items)) defineProperty(out, k, { value: items[k], enumerable: true, writable: true, configurable: true });
              return out;
            };
            const api = freeze({
              get: (k) => { const key = Str(k); return present(key) ? items[key] : undefined; },
              has: (k) => present(Str(k)),
              delete: (k) => { const key = Str(k); if (!present(key)) return false; delete items[key]; count--; return true; },
              clear: () => { items = create(null); count = 0; },
              getAll: copy,
              set: (k, v) => {
                const key = Str(k);
                if (key.length === 0 || key.length > 40) throw new ErrorCtor('state key must be 1 to 40 characters, got ' + key.length);
                const value = typeof v === 'string' ? v : stringify(v);
                if (typeof value !== 'string') throw new TypeErrorCtor('state value for "' + key + '" cannot be stored as JSON');
                if (value.length > 250) throw new ErrorCtor('state value for "' + key + '" is ' + value.length + ' characters; at most 250 are allowed');
                if (!present(key) && count >= 10) throw new ErrorCtor('state holds at most 10 items');
                if (!present(key)) count++;
                items[key] = value;
              },
            });
            return { api, snapshot: copy };
          };
          const reader = (values) => freeze({ get: (k) => (has(values, Str(k)) ? Str(values[Str(k)]) : undefined) });

          // A synchronous worker's answer in parts, read from the JSON just written (a plain copy: no getter of the
          // worker's runs again) the way WorkerAnswer.read(json:) reads it in Swift, with the same reasons: [kind
          // (1 nothing, 2 answer, 3 unreadable), reason, status kind (0 absent, 1 number, 2 name), number, name,
          // message, key, path, headers as JSON ('' for none)].
          const isArray = Array.isArray, isSafeInteger = Number.isSafeInteger;
          const isPlainObject = (v) => typeof v === 'object' && v !== null && !isArray(v);
          const own = (o, k) => (has(o, k) ? o[k] : undefined);
          const headerValue = (v) => (typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 'true' : 'false') : isSafeInteger(v) ? Str(v) : undefined);
          const readAnswer = (json) => {
            const value = json === '' ? null : parse(json);
            if (value === null) return [1, ''];
            if (!isPlainObject(value)) return [3, \#(JSONText.quote(WorkerAnswer.notAnObject))];
            const out = [2, '', 0, 0, '', undefined, undefined, undefined, ''];
            const status = own(value, 'status');
            if (typeof status === 'string') { out[2] = 2; out[4] = status; }
            else if (typeof status === 'number') { out[2] = 1; out[3] = status; }
            else if (status !== undefined && status !== null) return [3, \#(JSONText.quote(WorkerAnswer.badStatus))];
            if (typeof own(value, 'message') === 'string') out[5] = value.message;
            const modified = own(value, 'modifiedRepoPath');
            if (isPlainObject(modified) && typeof own(modified, 'path') === 'string') {
              out[7] = modified.path;
              if (typeof own(modified, 'key') === 'string') out[6] = modified.key;
            }
            const headers = own(value, 'headers');
            if (isPlainObject(headers)) {
              const list = [];
              for (const name of keys(headers)) {
                const header = headers[name], values = [];
                const given = isPlainObject(header) ? own(header, 'value') : undefined;
                if (isArray(given)) {
                  for (let i = 0; i < given.length; i++) { const text = headerValue(given[i]); if (text !== undefined) values.push(text); }
                } else if (typeof header === 'string') values.push(header);
                list.push([name, values]);
              }
              if (list.length) out[8] = stringify(list);
            }
            return out;
          };

          const run = (fn, infoJSON, dataJSON) => {
            const info = parse(infoJSON);
            const data = dataJSON === '' ? undefined : parse(dataJSON);
            const state = makeState(info.state || {});
            const context = freeze({
              clients, crypto, wait, getRemainingExecutionTime: remaining,
              secrets: reader(info.secrets || {}), properties: reader(info.properties || {}), state: state.api,
              baseUrl: Str(info.baseUrl || ''),
              // Minted by the server on first use: most runs never read it.
              get platformToken() { return Str(host.platformToken()); },
            });
            const failed = (e) => host.done(false, stringify(describe(e)), '');
            const succeeded = (value) => {
              let json = '';
              if (value !== undefined) {
                try { json = stringify(value); } catch (e) {
                  host.done(false, stringify({ type: 'TypeError', message: 'the worker returned a value that cannot be turned into JSON: ' + describe(e).message, line: 0 }), '');
                  return;
                }
                if (json === undefined) json = '';
              }
              if (!info.answer) return host.done(true, json, stringify(state.snapshot()));
              let a;
              try { a = readAnswer(json); } catch (e) { a = [3, \#(JSONText.quote(WorkerAnswer.notJSON))]; }
              host.done(true, json, stringify(state.snapshot()), a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
            };
            try {
              PromiseCtor.resolve(fn(context, data)).then(succeeded, failed);
            } catch (e) {
              failed(e);
            }
          };

          // Once the module has loaded: freeze every built-in (and the global object) so that no run can change what the
          // next run sees except through the module's own variables. Properties that ordinary code assigns on instances
          // (err.name = ..., obj.toString = ...) become accessors that define the property on the instance instead, so
          // freezing does not break them (the "override mistake").
          const overridable = (proto, key) => {
            const d = getOwnPropertyDescriptor(proto, key);
            if (!d || !('value' in d) || !d.configurable) return;
            const value = d.value;
            defineProperty(proto, key, {
              get() { return value; },
              set(v) {
                if (this === proto) throw new TypeErrorCtor('Cannot assign to read only property \'' + Str(key) + '\' of a built-in');
                defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
              },
              enumerable: d.enumerable, configurable: false,
            });
          };
          const overridableInstances = (ctor) => {
            if (typeof ctor === 'function' && ctor.prototype && ctor.prototype !== Object.prototype) {
              for (const key of ['constructor', 'toString', 'name', 'message']) overridable(ctor.prototype, key);
            }
          };
          const instanceProto = (make) => { try { return getPrototypeOf(make()); } catch (_) { return null; } };
          // Prototypes reached only through instances of what syntax makes (generators, async functions, iterators of
          // arrays, strings and regular expressions, iterator helpers, Iterator.from's wrapper): frozen at load.
          const hidden = () => [
            getPrototypeOf(function* () {}), getPrototypeOf(async function () {}), getPrototypeOf(async function* () {}),
            getPrototypeOf([][Symbol.iterator]()), getPrototypeOf(''[Symbol.iterator]()), getPrototypeOf(/x/[Symbol.matchAll]('')),
            instanceProto(() => [].values().map((x) => x)), instanceProto(() => Iterator.from({ next: () => ({ done: true }) })),
          ];
          // Globals that nothing but their own name reaches (no syntax, and no other built-in, hands out these objects or
          // their instances): frozen when a run first reads one of the group's names, not at load. Freezing reifies every
          // method and shape it touches, and these are most of what a frozen context would keep; a worker that never
          // reads Intl pays nothing for it. Each group is frozen whole, with the prototypes only its instances reach.
          const isFrozen = Object.isFrozen;
          const lazyGroups = [
            [['Math']], [['JSON']], [['Reflect']], [['Proxy']], [['Atomics']], [['Date']],
            [['Map'], () => [getPrototypeOf(new MapCtor().entries())]],
            [['Set'], () => [getPrototypeOf(new SetCtor().values())]],
            [['WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry']],
            [['ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
              'Int32Array', 'Uint32Array', 'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'],
             () => [getPrototypeOf(Int8Array)]],
            [['Intl'], () => {
              const segments = new Intl.Segmenter().segment('');
              return [getPrototypeOf(segments), getPrototypeOf(segments[Symbol.iterator]())];
            }],
          ];
          // Freezes everything reachable from `roots` through prototypes and own properties (values, getters and
          // setters, never calling a getter). Objects frozen already were reached whole by an earlier walk and are
          // skipped: a walk either ends or its process does (a run stopped by a limit ends its executor).
          const deepFreeze = (roots, skipFrozen) => {
            const seen = new SetCtor();
            const stack = roots.slice();
            while (stack.length) {
              const o = stack.pop();
              if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
              seen.add(o);
              if (skipFrozen && isFrozen(o)) continue;
              freeze(o);
              stack.push(getPrototypeOf(o));
              for (const key of ownKeys(o)) {
                const d = getOwnPropertyDescriptor(o, key);
                if (!d) continue;
                if ('value' in d) stack.push(d.value); else { stack.push(d.get); stack.push(d.set); }
              }
            }
          };
          // Each group's names become accessors before module code runs. Until the built-ins are frozen (the module
          // and the promises it settles while it loads), a read only marks the group and an assignment replaces the
          // value: a group read or changed then is frozen at load with the rest, its changes kept, so that nothing
          // the module holds (a Map made at load) is left writable for the runs, and only after the accessors that
          // let instances take their own toString. A group nothing read at load is frozen by the first run that reads it.
          let sealed = false;
          const groups = [];
          const deferGroup = ([names, extras]) => {
            const members = [];
            for (const name of names) {
              const d = getOwnPropertyDescriptor(G, name);
              // Absent from this JSC, or not a plain configurable value: frozen at load with the rest.
              if (d && 'value' in d && d.configurable) members.push({ name, value: d.value, enumerable: d.enumerable });
            }
            const group = { members, touched: false, frozen: false };
            group.freeze = () => {
              if (group.frozen) return;
              group.frozen = true;
              for (const member of members) overridableInstances(member.value);
              let more = [];
              try { more = extras ? extras() : []; } catch (_) {}
              deepFreeze([...members.map((member) => member.value), ...more], true);
            };
            for (const member of members) {
              member.get = () => {
                if (sealed) group.freeze(); else group.touched = true;
                return member.value;
              };
              const set = (v) => {
                if (sealed) throw new TypeErrorCtor('Cannot assign to read only property \'' + member.name + '\' of the global object');
                group.touched = true;
                member.value = v;
              };
              defineProperty(G, member.name, { get: member.get, set, enumerable: member.enumerable, configurable: true });
            }
            groups.push(group);
          };
          const freezeBuiltins = () => {
            const roots = [G, ...hidden()];
            for (const group of groups) {
              for (const member of group.members) {
                // Redefined by the module: a plain global now, frozen at load with the rest (as is its group).
                const d = getOwnPropertyDescriptor(G, member.name);
                if (!d || d.get !== member.get) group.touched = true;
                else defineProperty(G, member.name, { get: member.get, set: d.set, enumerable: d.enumerable, configurable: false });
              }
            }
            for (const key of ownKeys(Object.prototype)) overridable(Object.prototype, key);
            for (const name of getOwnPropertyNames(G)) {
              const d = getOwnPropertyDescriptor(G, name);
              if (d && 'value' in d) overridableInstances(d.value);
            }
            for (const group of groups) if (group.touched) group.freeze();
            deepFreeze(roots, false);
            sealed = true;
          };
          const getOwnPropertyNames = Object.getOwnPropertyNames;

          // Runs the module wrapper once; answers {fn} with the default export, or {error} describing why there is none.
          const load = (wrapper) => {
            const exported = {};
            for (const group of lazyGroups) deferGroup(group);
            try {
              wrapper(exported);
              const fn = typeof exported.default === 'function' ? exported.default : null;
              if (!fn) return { error: stringify({ type: 'TypeError', message: "the worker's default export is not a function", line: 0 }) };
              return { fn };
            } catch (e) {
              return { error: stringify(describe(e)) };
            }
          };

          return { run, load, freeze: freezeBuiltins };
        })
        """#
}
