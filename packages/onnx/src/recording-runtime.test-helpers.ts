import { BackendError } from '@pumer/core';
import * as ort from 'onnxruntime-node';
import type { GraphKind, GraphRuntime } from './ort-backend.js';

/**
 * onnxruntime-node as a GraphRuntime that records what it compiles and releases, and fails to compile graphs of
 * `failKind` while that is set: what the backend's session caches are tested against.
 */
export class RecordingRuntime implements GraphRuntime<ort.InferenceSession> {
  readonly created: { label: string; kind: GraphKind }[] = [];
  released = 0;
  failKind: GraphKind | null = null;

  tensor(type: 'float32' | 'int32', data: Float32Array | Int32Array, dims: readonly number[]) {
    return new ort.Tensor(type, data, [...dims]);
  }

  async createSession(bytes: Uint8Array, label: string, kind: GraphKind): Promise<ort.InferenceSession> {
    this.created.push({ label, kind });
    if (kind === this.failKind) throw new BackendError(`no session for ${label}`);
    const session = await ort.InferenceSession.create(bytes);
    const release = session.release.bind(session);
    session.release = () => {
      this.released++;
      return release();
    };
    return session;
  }

  info() {
    return { provider: 'cpu', requested: 'auto', fallbackReason: 'test' };
  }
}
