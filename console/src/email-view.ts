/** An email as the API shows it. */
/** The status view GET /v1/emails/{id} returns (the fields the console shows). */
export interface EmailView {
  readonly id: string;
  readonly status: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly priority: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly attempts: number;
  readonly provider: string | null;
  readonly providerMessageId: string | null;
  readonly reason?: string;
  /** When a scheduled email is due (also kept once it was sent or canceled). */
  readonly scheduledAt?: string;
  readonly engagement: {
    readonly opens: number;
    readonly clicks: number;
    readonly machineOpens: number;
    readonly machineClicks: number;
    readonly firstOpenAt: string | null;
    readonly firstClickAt: string | null;
  };
  readonly events: readonly ({ readonly type: string; readonly at: string } & Record<string, unknown>)[];
}
