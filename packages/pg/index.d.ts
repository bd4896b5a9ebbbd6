export * from 'ferropg/pg'
import pg from 'ferropg/pg'
export default pg
