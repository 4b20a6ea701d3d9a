import Foundation
import Testing

import RunModel
@testable import WorkerRuntime

/// What is frozen between runs (issue 13, item 4): everything syntax reaches at load, and each group of globals that
/// only its own name reaches (Math, JSON, Intl, Date, the collections, the typed arrays …) on the first read of one
/// of its names. The walks below read descriptors only (no getter runs) and use only what syntax reaches, so that
/// the first run sees the context exactly as a worker that reads no global does.
@Suite("Built-ins frozen between runs")
struct FrozenBuiltinsTests {
    static let walker = """
        const P = Object.getPrototypeOf, ownNames = Object.getOwnPropertyNames, ownSymbols = Object.getOwnPropertySymbols;
        const describe = Object.getOwnPropertyDescriptor, isFrozen = Object.isFrozen;
        const isObject = (o: any) => o !== null && (typeof o === 'object' || typeof o === 'function');
        // What syntax alone makes, and the engine's own errors: their prototypes are the roots of the walk.
        const made = async (): Promise<any[]> => {
          // A generator object's own prototype is its function's (the worker's); the one above it is the built-in.
          const out: any[] = [{}, [], function () {}, () => 0, class {}, async function () {}, async () => 0, function* () {},
            P((function* () {})()), async function* () {}, P((async function* () {})()), /x/, 'a', 1, true, 1n, Symbol.iterator,
            Promise.resolve(), [].values(), [].entries(), 'a'[Symbol.iterator](), 'a'.matchAll(/a/g),
            (function () { return arguments; })(), (() => 0).bind(null), Symbol.for('x')];
          const attempts = [() => (null as any).x, () => (undefined as any)(), () => new Array(-1), () => decodeURI('%'),
            () => new RegExp('('), () => (0 as any).toFixed(1000), () => [].values().map((x) => x),
            () => (globalThis as any).Iterator.from({ next: () => ({ done: true }) }), () => (globalThis as any).undefinedName];
          for (const attempt of attempts) { try { out.push(attempt()); } catch (e) { out.push(e); } }
          try { await Promise.any([]); } catch (e) { out.push(e); }
          return out;
        };
        // Every object reached from `roots` through prototypes and own properties, with a path to name it by.
        const reach = (roots: [string, any][]): [string, any][] => {
          const seen: any[] = [], found: [string, any][] = [], stack = roots.slice();
          while (stack.length) {
            const [path, o] = stack.pop()!;
            if (!isObject(o) || seen.indexOf(o) >= 0) continue;
            seen.push(o);
            found.push([path, o]);
            stack.push([path + '.__proto__', P(o)]);
            for (const key of [...ownNames(o), ...ownSymbols(o)]) {
              const d = describe(o, key);
              if (!d) continue;
              const name = path + '.' + String(key);
              if ('value' in d) stack.push([name, d.value]); else { stack.push([name + '.get', d.get]); stack.push([name + '.set', d.set]); }
            }
          }
          return found;
        };
        const syntaxRoots = async (): Promise<[string, any][]> =>
          [['globalThis', globalThis] as [string, any],
           ...(await made()).map((x, i): [string, any] => ['made' + i + '.__proto__', x === undefined || x === null ? null : P(x)])];
        // Every global read by name (each group frozen by that read), and the prototypes only a group's instances reach.
        const allRoots = async (): Promise<[string, any][]> => {
          const roots = await syntaxRoots();
          for (const name of ownNames(globalThis)) roots.push([name, (globalThis as any)[name]]);
          const g = globalThis as any;
          roots.push(['mapIterator', P(new g.Map().entries())], ['setIterator', P(new g.Set().values())], ['typedArray', P(g.Int8Array)]);
          try {
            const segments = new g.Intl.Segmenter().segment('a');
            roots.push(['segments', P(segments)], ['segmentIterator', P(segments[Symbol.iterator]())]);
          } catch (e) {}
          return roots;
        };
        // Read after load (module code runs before anything is frozen): the groups not read yet are accessors.
        const deferred = () => ['Math', 'JSON', 'Intl', 'Date', 'Map', 'Int8Array'].filter((name) => {
          const d = describe(globalThis, name);
          return d !== undefined && typeof d.get === 'function';
        });
        export default async (context: any, data: any) => {
          if (data.mode === 'syntax') {
            const open = reach(await syntaxRoots()).filter(([, o]) => !isFrozen(o)).map(([path]) => path);
            return { open: open.slice(0, 20), deferred: deferred() };
          }
          const reached = reach(await allRoots());
          if (data.mode === 'attack') {
            for (const [path, o] of reached) { try { o.leftByAnEarlierRun = path; } catch (e) {} }
            return reached.length;
          }
          return reached.filter(([, o]) => !isFrozen(o) || o.leftByAnEarlierRun !== undefined).map(([path]) => path).slice(0, 20);
        };
        """

    /// The first run reads no global: what syntax and the engine's errors reach is frozen already, and the groups are
    /// still only accessors on the global object (nothing of them was frozen, so nothing of them was paid for).
    @Test func whatSyntaxReachesIsFrozenBeforeAnyGlobalIsRead() async throws {
        let pool = try Shared.makePool(executors: 1)
        defer { pool.shutdown() }
        // Room for a loaded machine: the walk compares every object with every other.
        let limits = RunLimits(cpuMillis: 20_000, wallMillis: 60_000)
        let result = try await Shared.run(Self.walker, worker: "syntax", data: #"{"mode":"syntax"}"#, limits: limits, pool: pool)
        #expect(result.outcome == .success(resultJSON: #"{"open":[],"deferred":["Math","JSON","Intl","Date","Map","Int8Array"]}"#))
    }

    /// One run reads every global and writes on everything it then reaches; the next run of the same worker finds
    /// all of it frozen and none of what the first one wrote.
    @Test func everyGroupIsFrozenWholeByItsFirstReadAndNothingCarriesOver() async throws {
        let pool = try Shared.makePool(executors: 1)
        defer { pool.shutdown() }
        let limits = RunLimits(cpuMillis: 20_000, wallMillis: 60_000)
        let attack = try await Shared.run(Self.walker, worker: "groups", data: #"{"mode":"attack"}"#, limits: limits, pool: pool)
        guard case .success(let count) = attack.outcome, let reached = Int(count ?? "") else {
            Issue.record("the attack did not run: \(attack.outcome)")
            return
        }
        #expect(reached > 500)
        let after = try await Shared.run(Self.walker, worker: "groups", data: #"{"mode":"check"}"#, limits: limits, pool: pool)
        #expect(after.outcome == .success(resultJSON: "[]"))
    }
}

/// What module code does with a group before the built-ins are frozen (issue 13, item 4): a group it reads is
/// frozen at load like before, so a collection made at module level cannot carry a polluted prototype from one run
/// to the next; a change it makes to a group at load (a polyfill) is kept, and frozen with it.
@Suite("Groups module code reads at load")
struct GroupsReadAtLoadTests {
    @Test func aCollectionMadeAtModuleLevelCannotCarryAPollutedPrototypeToTheNextRun() async throws {
        let pool = try Shared.makePool(executors: 1)
        defer { pool.shutdown() }
        let code = """
            const cache = new Map();
            const bytes = new Uint8Array(4);
            export default async (context, data) => {
              if (data.attack) {
                try { (Object.getPrototypeOf(cache) as any).left = 'run 1'; } catch (e) {}
                try { (Object.getPrototypeOf(Object.getPrototypeOf(bytes)) as any).left = 'run 1'; } catch (e) {}
                return 'attacked';
              }
              return [typeof (cache as any).left, typeof (bytes as any).left];
            };
            """
        let after = try await Shared.afterAnAttack(code, worker: "module-map", pool: pool)
        #expect(after.outcome == .success(resultJSON: #"["undefined","undefined"]"#))
    }

    @Test func aChangeModuleCodeMakesToAGroupIsKeptAndFrozen() async throws {
        let pool = try Shared.makePool(executors: 1)
        defer { pool.shutdown() }
        let code = """
            (Date.prototype as any).wardenDay = function () { return 'day ' + this.getUTCDate(); };
            export default async (context, data) => {
              if (data.attack) { try { (Date.prototype as any).wardenDay = () => 'owned'; } catch (e) {} }
              return new Date(0).wardenDay();
            };
            """
        let first = try await Shared.run(code, worker: "polyfill", data: #"{"attack":true}"#, pool: pool)
        #expect(first.outcome == .success(resultJSON: #""day 1""#))
        let after = try await Shared.run(code, worker: "polyfill", data: #"{"attack":false}"#, pool: pool)
        #expect(after.outcome == .success(resultJSON: #""day 1""#))
    }

    /// A promise the module settles while it loads runs after the module code but before the built-ins are frozen:
    /// a group it reads then is frozen with the rest, after the accessors that let instances take their own
    /// `toString` (a group frozen earlier froze Object.prototype without them).
    @Test func aGroupReadByTheModulesPromisesIsFrozenWithTheRest() async throws {
        let pool = try Shared.makePool(executors: 1)
        defer { pool.shutdown() }
        let code = """
            let made: any;
            Promise.resolve().then(() => { made = new Map(); });
            export default async () => {
              const mine: any = {};
              mine.toString = () => 'mine';
              return [String(mine), Object.isFrozen(Object.getPrototypeOf(made))];
            };
            """
        let result = try await Shared.run(code, worker: "load-promise", pool: pool)
        #expect(result.outcome == .success(resultJSON: #"["mine",true]"#))
    }
}
