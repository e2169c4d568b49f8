// Funding rates are stored as a fraction per hour; APR is that rate over a year of hours.
export const HOURS_PER_YEAR = 8760;

export function annualise(ratePerHour: number): number {
  return ratePerHour * HOURS_PER_YEAR;
}
