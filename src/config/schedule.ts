import type { Weekday } from "./routing-schema.ts";

/**
 * Business hours in a number's own time zone. Wall-clock time comes from Intl (the IANA
 * database the runtime ships), so daylight-saving changes need no code of ours: 09:00 in
 * Europe/London is 08:00 UTC in summer and 09:00 UTC in winter.
 */

export interface OpeningWindow {
  days: Weekday[];
  /** "HH:MM", local time */
  open: string;
  /** "HH:MM" (24:00 allowed); earlier than `open` means the window runs past midnight */
  close: string;
}

export interface Schedule {
  /** IANA name, e.g. "America/New_York" */
  timezone: string;
  hours: OpeningWindow[];
  /** local dates ("YYYY-MM-DD") closed all day */
  closed_dates?: string[] | undefined;
}

export interface LocalTime {
  /** "YYYY-MM-DD" */
  date: string;
  day: Weekday;
  /** minutes since local midnight, 0–1439 */
  minutes: number;
}

const DAY_OF: Record<string, Weekday> = {
  Mon: "mon",
  Tue: "tue",
  Wed: "wed",
  Thu: "thu",
  Fri: "fri",
  Sat: "sat",
  Sun: "sun",
};
const PREVIOUS_DAY: Record<Weekday, Weekday> = {
  mon: "sun",
  tue: "mon",
  wed: "tue",
  thu: "wed",
  fri: "thu",
  sat: "fri",
  sun: "sat",
};

// Building a DateTimeFormat costs far more than using one, and formatting costs more than the
// rest of routing: one formatter per time zone (few per isolate), and each zone's last answer
// kept for the UTC minute it falls in.
interface ZoneClock {
  format: Intl.DateTimeFormat;
  /** start (ms since epoch) of the UTC minute `local` holds for, or NaN before the first call */
  minute: number;
  local: LocalTime;
}
const clocks = new Map<string, ZoneClock>();

function clock(timeZone: string): ZoneClock {
  let c = clocks.get(timeZone);
  if (!c) {
    const format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    c = { format, minute: Number.NaN, local: { date: "", day: "mon", minutes: 0 } };
    clocks.set(timeZone, c);
  }
  return c;
}

/** The wall-clock date, weekday and minute of `at` in `timeZone`. Throws RangeError for an unknown zone. */
export function localTime(at: Date, timeZone: string): LocalTime {
  const c = clock(timeZone);
  const ms = at.getTime();
  const minute = ms - (((ms % 60_000) + 60_000) % 60_000);
  if (minute === c.minute) return c.local;
  const parts: Record<string, string> = {};
  for (const p of c.format.formatToParts(at)) parts[p.type] = p.value;
  const local: LocalTime = {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    day: DAY_OF[parts.weekday as string] as Weekday,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
  // Every zone's offset today is whole minutes, so the whole UTC minute shares one local
  // minute; the odd historical offset with seconds (local seconds differ) is never reused.
  if (Number(parts.second) === at.getUTCSeconds()) {
    c.minute = minute;
    c.local = local;
  }
  return local;
}

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function dayBefore(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/**
 * Whether the number is open at `at`. A window belongs to the day it opens on: Friday
 * 22:00–02:00 is open until Saturday 02:00. A closed date closes its whole local day,
 * including a window spilling into it from the day before.
 */
export function isOpen(schedule: Schedule, at: Date): boolean {
  const now = localTime(at, schedule.timezone);
  const closed = schedule.closed_dates ?? [];
  if (closed.includes(now.date)) return false;
  const yesterday = PREVIOUS_DAY[now.day];
  return schedule.hours.some((w) => {
    const open = minutesOf(w.open);
    const close = minutesOf(w.close);
    if (close > open) return w.days.includes(now.day) && now.minutes >= open && now.minutes < close;
    // Past midnight: the evening part today, or the morning part of a window opened yesterday.
    if (w.days.includes(now.day) && now.minutes >= open) return true;
    return w.days.includes(yesterday) && now.minutes < close && !closed.includes(dayBefore(now.date));
  });
}

/** The instant local midnight begins `date` ("YYYY-MM-DD") in `timeZone` (DST-aware, via localTime). */
export function localMidnight(date: string, timeZone: string): Date {
  const target = Date.parse(`${date}T00:00:00Z`);
  let t = target;
  // Converges in one or two steps: each corrects by the zone's offset at the current guess.
  for (let i = 0; i < 3; i++) {
    const local = localTime(new Date(t), timeZone);
    const diff = Date.parse(`${local.date}T00:00:00Z`) + local.minutes * 60_000 - target;
    if (diff === 0) break;
    t -= diff;
  }
  return new Date(t);
}
