import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time the local workerd processes have used (user + system, all threads), read from
 * Linux's /proc. Unlike wall-clock timings it does not grow when other work on a shared machine
 * takes the cores, so "Worker CPU per call-second" compares runs made under different loads.
 * Returns null where /proc is missing (not Linux).
 */

/** Linux's USER_HZ: /proc's CPU times count in 1/100 s on every architecture Node supports. */
const TICKS_PER_SECOND = 100;

function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean).map(Number),
    );
  } catch {
    // The process ended meanwhile.
    return [];
  }
}

/** Milliseconds of CPU used so far by every workerd process this process started (wrangler's included). */
export function workerdCpuMs(): number | null {
  try {
    readFileSync(`/proc/${process.pid}/stat`);
  } catch {
    return null;
  }
  let ticks = 0;
  const queue = children(process.pid);
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    queue.push(...children(pid));
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // The command name is in parentheses and may hold spaces: fields count from after it.
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (name !== "workerd") continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Ended meanwhile: its time is gone with it.
    }
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}
