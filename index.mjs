// ferropg (ES module): the same classes as the CommonJS entry.
import cjs from './index.js'

export const { Pool, Client, PoolClient, FerroError, DatabaseError, PipelineAbortedError } = cjs
export default cjs
