// A lock file beside the embedded data folder, so two processes never open the same PGlite
// data (PGlite is single-process; two writers would corrupt it).
import fs from 'node:fs';

export interface DirLock { release(): void }

export class DataDirLockedError extends Error {
  constructor(public lockPath: string, public pid: number) {
    super(`The data folder is in use by process ${pid} (lock ${lockPath}). Stop that process, or set CARRY_DATA_DIR to another folder.`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireDirLock(lockPath: string): DirLock {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try { if (fs.readFileSync(lockPath, 'utf8') === String(process.pid)) fs.unlinkSync(lockPath); } catch { /* gone */ }
      };
      process.once('exit', release);
      return { release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (pid && pid !== process.pid && alive(pid)) throw new DataDirLockedError(lockPath, pid);
      if (pid === process.pid) throw new DataDirLockedError(lockPath, pid);
      fs.unlinkSync(lockPath); // stale: its process died (kill -9); take it over
    }
  }
  throw new Error(`could not take lock ${lockPath}`);
}
