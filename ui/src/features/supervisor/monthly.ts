// The monthly report screen's pure parts: which months to offer, how a chart's SVG becomes an
// image, and how minutes read.

/** `count` months, newest first, ending with the month of `now`, as `2026-11`. */
export function recentMonths(now: Date, count: number): string[] {
  const months: string[] = [];
  let year = now.getFullYear();
  let month = now.getMonth() + 1;
  for (let i = 0; i < count; i++) {
    months.push(`${year}-${String(month).padStart(2, '0')}`);
    month -= 1;
    if (month === 0) {
      month = 12;
      year -= 1;
    }
  }
  return months;
}

/**
 * The month a report is most likely wanted for: the one just ended during the first week of a
 * month (when monthly reports are written), else the current one.
 */
export function defaultMonth(now: Date): string {
  const months = recentMonths(now, 2);
  return (now.getDate() <= 7 ? months[1] : months[0]) ?? '';
}

/**
 * A chart's SVG as an image address. Shown through `<img>`, an SVG runs no script, so text the
 * technicians wrote (fault categories) cannot do anything but show.
 */
export function svgImage(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

/** Minutes as the report reads them: minutes under two hours, else hours with one decimal. */
export function splitMinutes(minutes: number | null): { value: number; unit: 'min' | 'h' } | null {
  if (minutes === null) return null;
  if (minutes < 120) return { value: Math.round(minutes * 10) / 10, unit: 'min' };
  return { value: Math.round((minutes / 60) * 10) / 10, unit: 'h' };
}
