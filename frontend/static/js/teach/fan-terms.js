// A fan-in's terms as text: every term when few, else the first few, "… N more" and the last (a leaf used 800 times).

export const FAN_HEAD = 3; // terms shown before the gap
export const FAN_ALL = 5; // up to this many terms are all shown

/** "a + b + c" for few terms; "a + b + c + … 160 more + z" for many. Formats only the terms it shows. */
export function fanTerms(parts, fmt) {
  const n = parts.length;
  if (n <= FAN_ALL) return parts.map((p) => fmt(p.values)).join(" + ");
  const head = parts.slice(0, FAN_HEAD).map((p) => fmt(p.values));
  return `${head.join(" + ")} + … ${n - FAN_HEAD - 1} more + ${fmt(parts[n - 1].values)}`;
}
