/** Fakes of the scheduling ports for unit tests: a Scheduler that records its calls and can fail, a content store that can fail. */

import type { ScheduleRequest, Scheduler } from '../../functions/ports';
import { MemoryContentStore } from './content-store';

export class MemoryScheduler implements Scheduler {
  readonly schedules = new Map<string, ScheduleRequest>();
  readonly calls: string[] = [];
  failCreate = false;
  failUpdate = false;
  async create(r: ScheduleRequest) {
    this.calls.push(`create ${r.name}`);
    if (this.failCreate) throw new Error('Scheduler unavailable');
    this.schedules.set(r.name, r);
  }
  async update(r: ScheduleRequest) {
    this.calls.push(`update ${r.name}`);
    if (this.failUpdate) throw new Error('Scheduler unavailable');
    if (!this.schedules.has(r.name)) return false;
    this.schedules.set(r.name, r);
    return true;
  }
  async delete(name: string) {
    this.calls.push(`delete ${name}`);
    return this.schedules.delete(name);
  }
}

export class FaultyContentStore extends MemoryContentStore {
  failPut = false;
  override async put(key: string, body: Uint8Array, contentType: string) {
    if (this.failPut) throw new Error('S3 unavailable');
    await super.put(key, body, contentType);
  }
}
