/** One status line that rewrites itself on a terminal and prints sparingly elsewhere (CI logs). */
export class Progress {
  private lastPrinted = 0;
  private readonly tty = process.stdout.isTTY === true;

  constructor(private readonly scenario: string) {}

  update(text: string, force = false): void {
    const now = Date.now();
    if (this.tty) {
      process.stdout.write(`\r\x1b[2K[${this.scenario}] ${text}`);
    } else if (force || now - this.lastPrinted >= 5_000) {
      console.log(`[${this.scenario}] ${text}`);
      this.lastPrinted = now;
    }
  }

  done(text: string): void {
    if (this.tty) process.stdout.write('\r\x1b[2K');
    console.log(`[${this.scenario}] ${text}`);
  }
}
