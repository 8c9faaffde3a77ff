export interface BenchRow {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  target?: string;
}

export interface BenchScenario {
  name: string;
  run(): Promise<BenchRow[]>;
}
