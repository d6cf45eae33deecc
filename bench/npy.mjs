// Minimal NumPy .npy reader and writer (format 1.0-3.0, little-endian, C order), enough for the
// numeric tensors the benchmark exchanges with bench/run_bench.py.
import { readFileSync, writeFileSync } from 'node:fs';

// npy descr <-> ONNX Runtime tensor type and typed array.
const DTYPES = {
  '<f4': ['float32', Float32Array],
  '<f8': ['float64', Float64Array],
  '<f2': ['float16', Uint16Array],
  '<i8': ['int64', BigInt64Array],
  '<i4': ['int32', Int32Array],
  '<i2': ['int16', Int16Array],
  '|i1': ['int8', Int8Array],
  '<u8': ['uint64', BigUint64Array],
  '<u4': ['uint32', Uint32Array],
  '<u2': ['uint16', Uint16Array],
  '|u1': ['uint8', Uint8Array],
  '|b1': ['bool', Uint8Array],
};
const DESCR_OF = Object.fromEntries(Object.entries(DTYPES).map(([d, [t]]) => [t, d]));

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // "\x93NUMPY"

/** Reads a .npy file: {type, dims, data} with data a typed array of `type`. */
export function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  if (major < 1 || major > 3) throw new Error(`${path}: unsupported .npy version ${major}`);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', headerStart, headerStart + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined)
    throw new Error(`${path}: malformed .npy header ${JSON.stringify(header)}`);
  if (fortran === 'True') throw new Error(`${path}: Fortran-order arrays are not supported`);
  const entry = DTYPES[descr];
  if (!entry) throw new Error(`${path}: unsupported dtype '${descr}'`);
  const [type, Array_] = entry;
  const dims = shape.split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLen;
  const bytes = count * Array_.BYTES_PER_ELEMENT;
  if (buf.length - offset < bytes) throw new Error(`${path}: truncated (${bytes} data bytes expected)`);
  // Copy into a fresh, aligned buffer: the file buffer's data offset need not be aligned.
  const data = new Array_(count);
  new Uint8Array(data.buffer).set(buf.subarray(offset, offset + bytes));
  return { type, dims, data };
}

/** Writes a typed array of ONNX Runtime type `type` and shape `dims` as a version 1.0 .npy file. */
export function writeNpy(path, type, dims, data) {
  const descr = DESCR_OF[type];
  if (!descr) throw new Error(`${path}: cannot write tensor type '${type}' as .npy`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const prefix = Buffer.alloc(10);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]));
}
