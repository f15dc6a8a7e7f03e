/**
 * A Web Worker that posts every message straight back: the far end of
 * limit_postmessage_roundtrip. Private to scripts/bench/.
 *
 * @module
 */

const scope = self as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
};

scope.onmessage = (event) => scope.postMessage(event.data);
