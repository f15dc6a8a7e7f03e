import assert from "node:assert/strict";
import {
  config,
  overrideSetting,
  settingEnvName,
  type SettingName,
  settings,
} from "../../runtime/common/mod.ts";

/** Runs `fn` with `RAYD_<NAME>` set to `value`, restoring what was there before. */
function withEnv(name: SettingName, value: string, fn: () => void): void {
  const key = settingEnvName(name);
  const before = Deno.env.get(key);
  Deno.env.set(key, value);
  try {
    fn();
  } finally {
    if (before === undefined) Deno.env.delete(key);
    else Deno.env.set(key, before);
  }
}

/** Runs `fn` with `RAYD_<NAME>` unset, restoring what was there before. */
function withoutEnv(name: SettingName, fn: () => void): void {
  const key = settingEnvName(name);
  const before = Deno.env.get(key);
  Deno.env.delete(key);
  try {
    fn();
  } finally {
    if (before !== undefined) Deno.env.set(key, before);
  }
}

const names = Object.keys(settings) as SettingName[];

Deno.test("config() returns the table's default when no environment override is set", () => {
  withoutEnv("inlineObjectMaxBytes", () => assert.equal(config("inlineObjectMaxBytes"), 102_400));
  withoutEnv("outOfBandMinBytes", () => assert.equal(config("outOfBandMinBytes"), 4096));
  withoutEnv("objectStoreInitialBytes", () => {
    assert.equal(config("objectStoreInitialBytes"), 64 * 1024 * 1024);
  });
  withoutEnv("workerStartTimeoutMs", () => assert.equal(config("workerStartTimeoutMs"), 30_000));
  for (const name of names) {
    const fallback = settings[name].default;
    if (typeof fallback === "function") continue;
    withoutEnv(name, () => assert.equal(config(name), fallback, name));
  }
});

Deno.test("config() computes function defaults from the machine", () => {
  withoutEnv("numWorkers", () => {
    assert.equal(config("numWorkers"), navigator.hardwareConcurrency || 1);
  });
  withoutEnv("objectStoreMemory", () => {
    const bytes = config("objectStoreMemory");
    assert.ok(Number.isInteger(bytes) && bytes > 0, `got ${bytes}`);
    assert.equal(bytes, Math.floor(Deno.systemMemoryInfo().total * 0.3));
  });
});

/** Settings whose 0 turns something off: a mode chosen by number, a hold of no time. */
const MODES = new Set<string>(["leasedTasks", "gcsTaskHoldMs"]);

Deno.test("config() gives a positive finite number for every setting (0 or more where 0 is off)", () => {
  for (const name of names) {
    withoutEnv(name, () => {
      const value = config(name);
      const least = MODES.has(name) ? 0 : Number.MIN_VALUE;
      assert.ok(Number.isFinite(value) && value >= least, `${name} = ${value}`);
    });
  }
});

Deno.test("settings has one line of meaning for every setting", () => {
  for (const name of names) {
    const { doc } = settings[name];
    assert.ok(doc.length > 0 && !doc.includes("\n"), `${name} doc: ${doc}`);
  }
});

Deno.test("settingEnvName() turns camelCase into RAYD_SNAKE_CASE", () => {
  assert.equal(settingEnvName("inlineObjectMaxBytes"), "RAYD_INLINE_OBJECT_MAX_BYTES");
  assert.equal(settingEnvName("numWorkers"), "RAYD_NUM_WORKERS");
  assert.equal(settingEnvName("workerStartTimeoutMs"), "RAYD_WORKER_START_TIMEOUT_MS");
});

Deno.test("config() returns the RAYD_<NAME> environment override when set", () => {
  withEnv("inlineObjectMaxBytes", "7", () => assert.equal(config("inlineObjectMaxBytes"), 7));
  withEnv("numWorkers", "3", () => assert.equal(config("numWorkers"), 3));
  withEnv("objectStoreMemory", "1048576", () => {
    assert.equal(config("objectStoreMemory"), 1_048_576);
  });
  withEnv("workerStartTimeoutMs", "2.5", () => assert.equal(config("workerStartTimeoutMs"), 2.5));
});

Deno.test("config() returns the default again once the override is deleted", () => {
  withoutEnv("workerStartTimeoutMs", () => {
    withEnv("workerStartTimeoutMs", "7", () => assert.equal(config("workerStartTimeoutMs"), 7));
    assert.equal(Deno.env.get("RAYD_WORKER_START_TIMEOUT_MS"), undefined);
    assert.equal(config("workerStartTimeoutMs"), 30_000);
  });
});

Deno.test("config() throws TypeError naming the variable for a non-numeric override", () => {
  for (const raw of ["lots", "12abc", "Infinity", "NaN"]) {
    withEnv("workerStartTimeoutMs", raw, () => {
      assert.throws(() => config("workerStartTimeoutMs"), (err: unknown) => {
        assert.ok(err instanceof TypeError, `got ${String(err)}`);
        assert.equal(
          err.message,
          `Invalid RAYD_WORKER_START_TIMEOUT_MS: expected a number, got "${raw}"`,
        );
        return true;
      });
    });
  }
});

Deno.test("config() rejects an empty or blank override rather than reading it as 0", () => {
  for (const raw of ["", " "]) {
    withEnv("numWorkers", raw, () => {
      let value: number | undefined;
      try {
        value = config("numWorkers");
      } catch (err) {
        assert.ok(err instanceof TypeError, `got ${String(err)}`);
        return;
      }
      assert.notEqual(value, 0, `RAYD_NUM_WORKERS="${raw}" was read as 0`);
    });
  }
});

Deno.test("overrideSetting wins over the environment in this thread until cleared", () => {
  Deno.env.set("RAYD_SPILL_RETRY_GC_ROUNDS", "5");
  try {
    overrideSetting("spillRetryGcRounds", 0);
    assert.equal(config("spillRetryGcRounds"), 0);
    overrideSetting("spillRetryGcRounds", undefined);
    assert.equal(config("spillRetryGcRounds"), 5, "the environment again");
  } finally {
    Deno.env.delete("RAYD_SPILL_RETRY_GC_ROUNDS");
  }
  assert.equal(config("spillRetryGcRounds"), 3, "the default");
});
