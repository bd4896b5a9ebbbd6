// ferropg (ES module): the same classes as the CommonJS entry.
import cjs from './index.js'

export const { Pool, Client, PoolClient, FerroError, DatabaseError, PipelineAbortedError, channels } = cjs
export default cjs
