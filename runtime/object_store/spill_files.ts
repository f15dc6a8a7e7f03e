/**
 * The files that spilled objects live in. Small objects share batch files
 * (appended until a file reaches `fileBytes`), big ones get a file each. A
 * file is deleted as soon as every object in it is released; `close` deletes
 * what is left, and the directory too when it is a temporary one made here.
 *
 * @module
 */

/** Where a spilled object's bytes are on disk. */
export interface DiskLoc {
  /** The spill file (an id of this SpillFiles). */
  readonly file: number;
  /** Byte offset in that file. */
  readonly offset: number;
  /** Length in bytes. */
  readonly size: number;
}

/** How spill files are laid out. */
export interface SpillFilesOptions {
  /**
   * Directory to write in; created if missing and kept at `close` (only the
   * files written here are deleted). Default: a new temporary directory,
   * deleted at `close`.
   */
  directory?: string;
  /** Start of every file name (e.g. `rayd-<node id>`), so files of different nodes never clash. */
  prefix: string;
  /** A batch file takes objects until it holds this many bytes. */
  fileBytes: number;
  /** Objects smaller than this go to batch files; others to a file of their own. */
  smallBytes: number;
}

/** What the spill files hold and have moved. */
export interface SpillFilesStats {
  /** Files on disk. */
  readonly files: number;
  /** Bytes of objects not yet released. */
  readonly liveBytes: number;
  /** Bytes written since the start. */
  readonly written: number;
  /** Bytes read back since the start. */
  readonly read: number;
  /** The directory, once one is in use. */
  readonly directory?: string;
}

interface SpillFile {
  readonly path: string;
  readonly handle: Deno.FsFile;
  /** Bytes written so far (the next object's offset). */
  end: number;
  /** Objects written and not released. */
  live: number;
  liveBytes: number;
}

/**
 * Writes, reads back and deletes spilled objects.
 *
 * @example
 * ```ts
 * import { SpillFiles } from "./spill_files.ts";
 * const files = new SpillFiles({ prefix: "demo", fileBytes: 1 << 20, smallBytes: 1 << 16 });
 * const loc = files.write(new Uint8Array([1, 2, 3]));
 * const back = new Uint8Array(3);
 * files.read(loc, back); // back is [1, 2, 3]
 * files.release(loc); // the batch file is deleted
 * files.close(); // and so is the temporary directory
 * ```
 */
export class SpillFiles {
  readonly #options: SpillFilesOptions;
  readonly #files = new Map<number, SpillFile>();
  #dir: string | undefined;
  #ownDir = false;
  /** The batch file taking small objects, if one is open. */
  #batch: number | undefined;
  #nextFile = 1;
  #written = 0;
  #read = 0;
  #closed = false;

  /** Sets the layout; nothing is created on disk before the first write. */
  constructor(options: SpillFilesOptions) {
    this.#options = options;
  }

  /**
   * Appends `bytes` to a batch file, or writes them to a new file of their own.
   * @throws Deno.errors when the file cannot be created or written (disk full)
   * @throws Error after `close`
   */
  write(bytes: Uint8Array): DiskLoc {
    if (this.#closed) throw new Error("Cannot spill: the spill files are closed");
    const size = bytes.length;
    const small = size < this.#options.smallBytes;
    let id = small ? this.#batch : undefined;
    if (id !== undefined && this.#files.get(id)!.end + size > this.#options.fileBytes) {
      this.#batch = id = undefined;
    }
    if (id === undefined) {
      id = this.#create();
      if (small) this.#batch = id;
    }
    const file = this.#files.get(id)!;
    const offset = file.end;
    file.handle.seekSync(offset, Deno.SeekMode.Start);
    for (let done = 0; done < size;) done += file.handle.writeSync(bytes.subarray(done));
    file.end += size;
    file.live++;
    file.liveBytes += size;
    this.#written += size;
    return { file: id, offset, size };
  }

  /**
   * Reads the object at `loc` into `into` (at least `loc.size` long).
   * @throws Error when the file is gone or shorter than expected
   */
  read(loc: DiskLoc, into: Uint8Array): void {
    const file = this.#files.get(loc.file);
    if (!file) throw new Error(`Cannot restore spilled object: spill file ${loc.file} is gone`);
    file.handle.seekSync(loc.offset, Deno.SeekMode.Start);
    const target = into.subarray(0, loc.size);
    for (let done = 0; done < loc.size;) {
      const n = file.handle.readSync(target.subarray(done));
      if (n === null) {
        throw new Error(
          `Cannot restore spilled object: ${file.path} ends before ${loc.offset + loc.size}`,
        );
      }
      done += n;
    }
    this.#read += loc.size;
  }

  /** Forgets the object at `loc`; deletes its file once nothing in it is live. */
  release(loc: DiskLoc): void {
    const file = this.#files.get(loc.file);
    if (!file) return;
    file.live--;
    file.liveBytes -= loc.size;
    if (file.live > 0) return;
    if (this.#batch === loc.file) this.#batch = undefined;
    this.#files.delete(loc.file);
    this.#remove(file);
  }

  /** Deletes every file written here, and the directory when it is a temporary one. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const file of this.#files.values()) this.#remove(file);
    this.#files.clear();
    if (this.#dir !== undefined && this.#ownDir) {
      try {
        Deno.removeSync(this.#dir, { recursive: true });
      } catch {
        // Already gone.
      }
    }
  }

  /** Files, live bytes, bytes written and read. */
  stats(): SpillFilesStats {
    let liveBytes = 0;
    for (const f of this.#files.values()) liveBytes += f.liveBytes;
    return {
      files: this.#files.size,
      liveBytes,
      written: this.#written,
      read: this.#read,
      directory: this.#dir,
    };
  }

  #create(): number {
    const dir = this.#directory();
    const id = this.#nextFile++;
    const path = `${dir}/${this.#options.prefix}-${id}.spill`;
    const handle = Deno.openSync(path, { read: true, write: true, create: true, truncate: true });
    this.#files.set(id, { path, handle, end: 0, live: 0, liveBytes: 0 });
    return id;
  }

  #directory(): string {
    if (this.#dir !== undefined) return this.#dir;
    const given = this.#options.directory;
    if (given === undefined) {
      this.#dir = Deno.makeTempDirSync({ prefix: "rayd-spill-" });
      this.#ownDir = true;
    } else {
      Deno.mkdirSync(given, { recursive: true });
      this.#dir = given;
    }
    return this.#dir;
  }

  #remove(file: SpillFile): void {
    try {
      file.handle.close();
    } catch {
      // Already closed.
    }
    try {
      Deno.removeSync(file.path);
    } catch {
      // Already gone.
    }
  }
}
