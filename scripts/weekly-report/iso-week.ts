/** ISO 8601 weeks ("2026-W46"): Monday 00:00 UTC to Sunday 23:59:59 UTC; week 1 holds January 4th. */
const DAY = 86_400_000;

export interface IsoWeek {
  label: string;
  /** Monday 00:00:00 UTC, epoch ms. */
  start: number;
  /** Sunday 23:59:59 UTC, epoch ms (inclusive, as the pipes' end_date). */
  end: number;
}

const mondayOf = (ms: number) => ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY;

/** Parses "YYYY-Www"; undefined when malformed or past the year's last week. */
export function parseIsoWeek(text: string): IsoWeek | undefined {
  const m = /^(\d{4})-W(\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  const week = Number(m[2]);
  const start = mondayOf(Date.UTC(year, 0, 4)) + (week - 1) * 7 * DAY;
  if (week < 1 || isoWeekOf(start).label !== text.trim()) return undefined;
  return { label: text.trim(), start, end: start + 7 * DAY - 1000 };
}

/** The ISO week containing ms. */
export function isoWeekOf(ms: number): IsoWeek {
  const start = mondayOf(Math.floor(ms / DAY) * DAY);
  // The ISO year is the year of the week's Thursday.
  const thursday = new Date(start + 3 * DAY);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((start - mondayOf(Date.UTC(year, 0, 4))) / (7 * DAY)) + 1;
  return { label: `${year}-W${String(week).padStart(2, '0')}`, start, end: start + 7 * DAY - 1000 };
}

/** The week before. */
export const previousWeek = (w: IsoWeek): IsoWeek => isoWeekOf(w.start - 7 * DAY);
