/**
 * Sentences from the model to the speaker, in order: the pipeline's LLM stream pushes them as
 * the splitter finds them, and its text-to-speech loop awaits them one at a time.
 */
export class SentenceQueue {
  private readonly items: string[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  push(sentence: string): void {
    this.items.push(sentence);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(error: unknown): void {
    this.failure = { error };
    this.end();
  }

  /** The next sentence; undefined at the end; throws the producer's failure after what came before it. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) return item;
      if (this.failure) throw this.failure.error;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
