//! The rows of the task table, in blocks of [`BLOCK`] that are packed once their tasks have
//! all ended.
//!
//! A trace that starts a goroutine per request has millions of tasks, and a row is 32 bytes:
//! on a trace with a goroutine every 16 bytes of file the rows alone were twice the file. The
//! rows of neighbouring tasks are alike (ids and creation times a little apart, the same
//! creator, few shapes and stacks), so a block of them is stored as a base per column and each
//! row's offsets from it, in as few bytes as the block's widest offset needs: about 9 bytes a
//! row on such a trace. A row is changed in place while its task lives (a trace sets its stack
//! at every state and its intervals at every interval), which offsets of a fixed width cannot
//! take; an ended task is seldom changed again, so a block is packed only once all its tasks
//! have ended, and then only [`LAG`] fully ended blocks later, for the changes a parser makes
//! just after an end. A change a packed block cannot hold in place (a trace that contradicts
//! itself, a parser's last pass over every task) unpacks the block again, until the table is
//! trimmed at the end of the parse, which packs it anew.

use std::collections::VecDeque;

use super::super::stack::StackId;
use super::super::task::IntervalRange;

/// What a task has of its own: the low halves of its id, its creator's id, its start and its
/// end (or wait), its intervals, its stack and the number of its shape.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct Row {
    pub low: [u32; 4],
    pub intervals: IntervalRange,
    pub stack: StackId,
    pub shape: u32,
}

const _: () = assert!(size_of::<Row>() == 32);

/// Rows a block holds.
const BLOCK: usize = 64;

/// The 32-bit words of a row, the columns of a packed block.
const WORDS: usize = 8;

/// Word of a row holding its id's low half, and its shape.
pub(super) const ID_WORD: usize = 0;
pub(super) const SHAPE_WORD: usize = 7;

/// Fully ended blocks that must follow a block before it is packed.
const LAG: usize = 32;

/// A packed block's head: a base per word (`u32`), a width in bytes per word (`u8`), and where
/// each word's column starts after the head (`u16`). Then come the columns, and `PAD` zero
/// bytes so that every offset can be read as a whole `u32` and masked to its width.
const HEAD: usize = WORDS * 4 + WORDS + WORDS * 2;
const WIDTHS_AT: usize = WORDS * 4;
const STARTS_AT: usize = WIDTHS_AT + WORDS;
const PAD: usize = 3;

/// Masks of an offset `w` bytes wide.
const MASK: [u32; 5] = [0, 0xff, 0xffff, 0x00ff_ffff, u32::MAX];

fn words(row: &Row) -> [u32; WORDS] {
    let [a, b, c, d] = row.low;
    [a, b, c, d, row.intervals.start, row.intervals.len, row.stack.0, row.shape]
}

fn from_words([a, b, c, d, start, len, stack, shape]: [u32; WORDS]) -> Row {
    Row { low: [a, b, c, d], intervals: IntervalRange { start, len }, stack: StackId(stack), shape }
}

#[derive(Clone)]
enum Block {
    Plain(Box<[Row; BLOCK]>),
    /// At byte `at` of chunk `chunk` of the arena.
    Packed {
        chunk: u32,
        at: u32,
    },
}

/// Sizes of the arena's chunks: the first, and the most (each twice the one before). Packed
/// blocks of one allocation each were scattered through the heap, among what the parse made
/// between them: reading them in order missed the cache at every block, and iterating a table
/// of 4 million tasks took four times as long as reading it packed in one place.
const CHUNK: (usize, usize) = (16 << 10, 1 << 20);

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    bytes.get(at..at + 4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_le_bytes)
}

fn read_u16(bytes: &[u8], at: usize) -> usize {
    bytes.get(at..at + 2).and_then(|b| b.try_into().ok()).map_or(0, |b| usize::from(u16::from_le_bytes(b)))
}

/// Bytes an offset up to `span` needs.
fn width(span: u32) -> usize {
    (32 - span.leading_zeros() as usize).div_ceil(8)
}

/// A packed block's head, read out of its bytes.
struct Head {
    base: [u32; WORDS],
    width: [u8; WORDS],
    start: [u16; WORDS],
}

#[inline]
fn head(bytes: &[u8]) -> Head {
    let mut head = Head { base: [0; WORDS], width: [0; WORDS], start: [0; WORDS] };
    if let Some(h) = bytes.get(..HEAD) {
        let (bases, rest) = h.split_at(WIDTHS_AT);
        let (widths, starts) = rest.split_at(WORDS);
        for (b, c) in head.base.iter_mut().zip(bases.chunks_exact(4)) {
            *b = c.try_into().map_or(0, u32::from_le_bytes);
        }
        for (w, &c) in head.width.iter_mut().zip(widths) {
            *w = c.min(4);
        }
        for (s, c) in head.start.iter_mut().zip(starts.chunks_exact(2)) {
            *s = c.try_into().map_or(0, u16::from_le_bytes);
        }
    }
    head
}

/// Word `word` of row `at` of a packed block.
#[inline]
fn packed_word(bytes: &[u8], at: usize, word: usize) -> u32 {
    let base = read_u32(bytes, word * 4);
    let width = bytes.get(WIDTHS_AT + word).map_or(0, |&w| usize::from(w));
    let column = HEAD + read_u16(bytes, STARTS_AT + word * 2);
    let mask = MASK.get(width).copied().unwrap_or(u32::MAX);
    base.wrapping_add(read_u32(bytes, column + at * width) & mask)
}

fn packed_row(bytes: &[u8], at: usize) -> Row {
    let Head { base, width, start } = head(bytes);
    let mut words = [0u32; WORDS];
    for (((v, base), width), start) in words.iter_mut().zip(base).zip(width).zip(start) {
        let (width, start) = (usize::from(width), usize::from(start));
        let mask = MASK.get(width).copied().unwrap_or(u32::MAX);
        *v = base.wrapping_add(read_u32(bytes, HEAD + start + at * width) & mask);
    }
    from_words(words)
}

/// A column of a block: its base plus each of `offsets`.
#[inline]
fn fill(column: &mut [u32; BLOCK], base: u32, offsets: impl Iterator<Item = u32>) {
    for (v, offset) in column.iter_mut().zip(offsets) {
        *v = base.wrapping_add(offset);
    }
}

/// A block's rows as columns, one per word.
type Columns = [[u32; BLOCK]; WORDS];

/// Every column of a packed block, a loop per width.
fn unpack_columns(bytes: &[u8], columns: &mut Columns) {
    let Head { base, width, start } = head(bytes);
    for (values, ((base, width), start)) in columns.iter_mut().zip(base.into_iter().zip(width).zip(start)) {
        let (width, start) = (usize::from(width), HEAD + usize::from(start));
        let column = bytes.get(start..start + width * BLOCK).unwrap_or_default();
        match width {
            0 => fill(values, base, std::iter::repeat(0)),
            1 => fill(values, base, column.iter().map(|&b| u32::from(b))),
            2 => fill(values, base, column.chunks_exact(2).map(read_le::<2>)),
            3 => fill(values, base, column.chunks_exact(3).map(read_le::<3>)),
            _ => fill(values, base, column.chunks_exact(4).map(read_le::<4>)),
        }
    }
}

/// Row `at` of a block's columns.
#[allow(clippy::inline_always)] // See `Iter` in `tasks.rs`.
#[inline(always)]
fn column_row(columns: &Columns, at: usize) -> Row {
    from_words(std::array::from_fn(|w| columns.get(w).and_then(|c| c.get(at)).copied().unwrap_or(0)))
}

/// `N` little-endian bytes as a number.
#[inline]
fn read_le<const N: usize>(bytes: &[u8]) -> u32 {
    let mut four = [0u8; 4];
    if let (Some(to), Ok(from)) = (four.get_mut(..N), <[u8; N]>::try_from(bytes)) {
        to.copy_from_slice(&from);
    }
    u32::from_le_bytes(four)
}

/// Writes `row` over row `at` of a packed block if each word is within its column's reach.
fn packed_put(bytes: &mut [u8], at: usize, row: &Row) -> bool {
    let words = words(row);
    let mut offsets = [0u32; WORDS];
    for (word, (&value, offset)) in words.iter().zip(&mut offsets).enumerate() {
        let base = read_u32(bytes, word * 4);
        let width = bytes.get(WIDTHS_AT + word).map_or(0, |&w| usize::from(w));
        *offset = value.wrapping_sub(base);
        if value < base || *offset & !MASK.get(width).copied().unwrap_or(u32::MAX) != 0 {
            return false;
        }
    }
    for (word, offset) in offsets.into_iter().enumerate() {
        let width = bytes.get(WIDTHS_AT + word).map_or(0, |&w| usize::from(w));
        let from = HEAD + read_u16(bytes, STARTS_AT + word * 2) + at * width;
        if let (Some(to), Some(from_bytes)) =
            (bytes.get_mut(from..from + width), offset.to_le_bytes().get(..width))
        {
            to.copy_from_slice(from_bytes);
        }
    }
    true
}

/// The block packed into `bytes`, unless packing would not make it smaller.
fn pack(rows: &[Row; BLOCK], bytes: &mut Vec<u8>) -> bool {
    // Columns and their ranges in one pass over the rows; each column is then written from its
    // base without a copy of it (a trace packs a block every 64 goroutines, on the thread that
    // reads the events).
    let mut columns = [[0u32; BLOCK]; WORDS];
    let (mut low, mut high) = ([u32::MAX; WORDS], [0u32; WORDS]);
    for (at, row) in rows.iter().enumerate() {
        for (((column, v), low), high) in columns.iter_mut().zip(words(row)).zip(&mut low).zip(&mut high) {
            if let Some(c) = column.get_mut(at) {
                *c = v;
            }
            *low = (*low).min(v);
            *high = (*high).max(v);
        }
    }
    let mut widths = [0usize; WORDS];
    for ((w, low), high) in widths.iter_mut().zip(low).zip(high) {
        *w = width(high.wrapping_sub(low));
    }
    let size = HEAD + widths.iter().sum::<usize>() * BLOCK + PAD;
    if size >= size_of::<[Row; BLOCK]>() {
        return false;
    }
    bytes.clear();
    bytes.resize(size, 0);
    let (head, mut rest) = bytes.split_at_mut(HEAD);
    let (bases, head) = head.split_at_mut(WIDTHS_AT);
    let (widths_at, starts) = head.split_at_mut(WORDS);
    let mut start = 0usize;
    for ((((values, base), (to_base, to_start)), &width), to_width) in columns
        .iter()
        .zip(low)
        .zip(bases.chunks_exact_mut(4).zip(starts.chunks_exact_mut(2)))
        .zip(&widths)
        .zip(widths_at)
    {
        to_base.copy_from_slice(&base.to_le_bytes());
        // At most 4 bytes and so 4 * 64 * 8 bytes of columns: a u16.
        *to_width = width as u8;
        to_start.copy_from_slice(&(start as u16).to_le_bytes());
        start += width * BLOCK;
        let (column, after) = rest.split_at_mut(width * BLOCK);
        rest = after;
        match width {
            0 => {}
            1 => put_le::<1>(column, values, base),
            2 => put_le::<2>(column, values, base),
            3 => put_le::<3>(column, values, base),
            _ => put_le::<4>(column, values, base),
        }
    }
    true
}

/// `values` less `base` as `N` little-endian bytes each into `column`.
#[inline]
fn put_le<const N: usize>(column: &mut [u8], values: &[u32; BLOCK], base: u32) {
    for (to, v) in column.chunks_exact_mut(N).zip(values) {
        if let Some(from) = v.wrapping_sub(base).to_le_bytes().get(..N) {
            to.copy_from_slice(from);
        }
    }
}

fn unpack(bytes: &[u8]) -> Box<[Row; BLOCK]> {
    let mut columns = [[0u32; BLOCK]; WORDS];
    unpack_columns(bytes, &mut columns);
    Box::new(std::array::from_fn(|at| column_row(&columns, at)))
}

/// A packed block unpacked, for reading its rows in order: one row of a packed block costs a
/// read of each column; the block, little more than a read of all of them at once.
#[derive(Clone, Default)]
pub(super) struct Unpacked(Option<(usize, Box<Columns>)>);

impl Unpacked {
    /// Block `block`, from `bytes`, unpacked into this cache: once a block, out of line so
    /// that reading a row stays small enough to inline into the loops that read them.
    #[inline(never)]
    fn fill(&mut self, block: usize, bytes: &[u8]) -> &Columns {
        let (b, columns) = self.0.get_or_insert_with(|| (block, Box::new([[0; BLOCK]; WORDS])));
        *b = block;
        unpack_columns(bytes, columns);
        columns
    }
}

/// The rows, as a [`Vec`] of them would keep them (see the module docs).
#[derive(Clone, Default)]
pub(super) struct Rows {
    blocks: Vec<Block>,
    /// A bit per row, by block: its task has ended.
    ended: Vec<u64>,
    /// Fully ended blocks not packed yet, oldest first.
    waiting: VecDeque<u32>,
    len: usize,
    /// Rows reserved (see [`Rows::capacity`]).
    room: usize,
    /// The packed blocks, one after another in chunks that never move (see [`CHUNK`]). A block
    /// unpacked again leaves its bytes unused: `garbage` of them, until `shrink_to_fit`.
    arena: Vec<Vec<u8>>,
    garbage: usize,
    /// A block being packed.
    scratch: Vec<u8>,
    /// The rows of the block packed last, for the next block made: made afresh, each block's
    /// 2 KB were zeroed and freed again, 128 MB of each for 4 million tasks.
    spare: Option<Box<[Row; BLOCK]>>,
    /// Emptied chunks of another table's arena (see [`Rows::reuse`]), the smallest last.
    free_chunks: Vec<Vec<u8>>,
}

/// Bytes a packed block takes, from its head.
fn packed_len(bytes: &[u8]) -> usize {
    HEAD + head(bytes).width.iter().map(|&w| usize::from(w)).sum::<usize>() * BLOCK + PAD
}

/// Appends a packed block's `bytes` to `arena`, in a new chunk where the last has no room
/// (one of `free` where it is big enough); returns where they went.
fn arena_put(arena: &mut Vec<Vec<u8>>, free: &mut Vec<Vec<u8>>, bytes: &[u8]) -> Option<(u32, u32)> {
    if arena.last().is_none_or(|c| c.capacity() - c.len() < bytes.len()) {
        let next = arena.last().map_or(CHUNK.0, |c| (c.capacity() * 2).min(CHUNK.1)).max(bytes.len());
        match free.pop_if(|c| c.capacity() >= next) {
            Some(chunk) => arena.push(chunk),
            None => arena.push(Vec::with_capacity(next)),
        }
    }
    let chunk = u32::try_from(arena.len() - 1).ok()?;
    let c = arena.last_mut()?;
    let at = u32::try_from(c.len()).ok()?;
    c.extend_from_slice(bytes);
    Some((chunk, at))
}

/// The bytes of a packed block, and whatever follows it in its chunk.
#[inline]
fn packed(arena: &[Vec<u8>], chunk: u32, at: u32) -> &[u8] {
    arena.get(chunk as usize).and_then(|c| c.get(at as usize..)).unwrap_or_default()
}

impl Rows {
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Rows there is room for: what was reserved, or what the blocks made hold.
    pub fn capacity(&self) -> usize {
        self.room.max(self.blocks.len() * BLOCK)
    }

    pub fn reserve_exact(&mut self, additional: usize) {
        self.room = self.room.max(self.len.saturating_add(additional));
        let blocks = self.room.div_ceil(BLOCK);
        self.blocks.reserve_exact(blocks.saturating_sub(self.blocks.len()));
        self.ended.reserve_exact(blocks.saturating_sub(self.ended.len()));
    }

    /// Keeps the chunks of `old`'s arena, emptied, for this one's (see `Tasks::reuse`): the
    /// chunks a second pass over the same trace asks for come in the same sizes.
    pub fn reuse(&mut self, old: Rows) {
        let mut chunks = old.arena;
        for chunk in &mut chunks {
            chunk.clear();
        }
        chunks.sort_by_key(|c| std::cmp::Reverse(c.capacity()));
        self.free_chunks = chunks;
    }

    /// Gives back the room no row uses, and packs every block whose tasks have all ended: those
    /// still waiting their turn, and those a change unpacked (a parser's last pass over every
    /// task). The arena is copied afresh where the bytes of blocks unpacked since are a third of
    /// it or more, as after such a pass (the copy's bytes are held twice for a moment).
    pub fn shrink_to_fit(&mut self) {
        self.room = self.len;
        self.waiting = VecDeque::new();
        for block in 0..self.blocks.len() {
            self.pack(block);
        }
        let live: usize = self.arena.iter().map(Vec::len).sum::<usize>() - self.garbage;
        if self.garbage * 2 > live {
            let mut arena = Vec::new();
            for slot in &mut self.blocks {
                if let &mut Block::Packed { chunk, at } = slot {
                    let bytes = packed(&self.arena, chunk, at);
                    let bytes = bytes.get(..packed_len(bytes)).unwrap_or_default();
                    if let Some((chunk, at)) = arena_put(&mut arena, &mut Vec::new(), bytes) {
                        *slot = Block::Packed { chunk, at };
                    }
                }
            }
            self.arena = arena;
            self.garbage = 0;
        }
        self.spare = None;
        self.scratch = Vec::new();
        self.free_chunks = Vec::new();
        self.blocks.shrink_to_fit();
        self.ended.shrink_to_fit();
    }

    #[inline]
    pub fn get(&self, index: usize) -> Option<Row> {
        if index >= self.len {
            return None;
        }
        match self.blocks.get(index / BLOCK)? {
            Block::Plain(rows) => rows.get(index % BLOCK).copied(),
            &Block::Packed { chunk, at } => Some(packed_row(packed(&self.arena, chunk, at), index % BLOCK)),
        }
    }

    /// Row `index`, unpacking its block into `cache` when packed.
    #[allow(clippy::inline_always)] // See `Iter` in `tasks.rs`.
    #[inline(always)]
    pub fn get_in_order(&self, index: usize, cache: &mut Unpacked) -> Option<Row> {
        if index >= self.len {
            return None;
        }
        let (block, at) = (index / BLOCK, index % BLOCK);
        match self.blocks.get(block)? {
            Block::Plain(rows) => rows.get(at).copied(),
            &Block::Packed { chunk, at: from } => match &cache.0 {
                Some((b, columns)) if *b == block => Some(column_row(columns, at)),
                _ => Some(column_row(cache.fill(block, packed(&self.arena, chunk, from)), at)),
            },
        }
    }

    /// Word `word` of row `index` alone (see [`words`]).
    #[inline]
    pub fn word(&self, index: usize, word: usize) -> Option<u32> {
        if index >= self.len {
            return None;
        }
        match self.blocks.get(index / BLOCK)? {
            Block::Plain(rows) => rows.get(index % BLOCK).and_then(|r| words(r).get(word).copied()),
            &Block::Packed { chunk, at } => {
                Some(packed_word(packed(&self.arena, chunk, at), index % BLOCK, word))
            }
        }
    }

    /// Adds a row at the end; `ended` says whether its task has ended.
    pub fn push(&mut self, row: Row, ended: bool) {
        let at = self.len % BLOCK;
        if at == 0 {
            // A spare's rows past the ones pushed are never read (see `len`).
            let rows = self.spare.take().unwrap_or_else(|| Box::new([Row::default(); BLOCK]));
            self.blocks.push(Block::Plain(rows));
            self.ended.push(0);
        }
        let block = self.blocks.len() - 1;
        if let Some(Block::Plain(rows)) = self.blocks.last_mut()
            && let Some(slot) = rows.get_mut(at)
        {
            *slot = row;
        }
        self.len += 1;
        self.mark(block, at, ended);
    }

    /// Replaces row `index`; `ended` says whether its task has ended.
    pub fn put(&mut self, index: usize, row: Row, ended: bool) {
        if index >= self.len {
            return;
        }
        let (block, at) = (index / BLOCK, index % BLOCK);
        let Some(slot) = self.blocks.get_mut(block) else { return };
        if let &mut Block::Packed { chunk, at: from } = slot {
            let bytes = self.arena.get_mut(chunk as usize).and_then(|c| c.get_mut(from as usize..));
            let bytes = bytes.unwrap_or_default();
            if !packed_put(bytes, at, &row) {
                self.garbage += packed_len(bytes);
                *slot = Block::Plain(unpack(bytes));
            }
        }
        if let Block::Plain(rows) = slot
            && let Some(r) = rows.get_mut(at)
        {
            *r = row;
        }
        self.mark(block, at, ended);
    }

    /// Row `index` to change in place, its block unpacked first if packed: for the changes a
    /// parser makes at every event to a task that lives (whose block is not packed).
    #[inline]
    pub fn row_mut(&mut self, index: usize) -> Option<&mut Row> {
        if index >= self.len {
            return None;
        }
        let slot = self.blocks.get_mut(index / BLOCK)?;
        if let &mut Block::Packed { chunk, at } = slot {
            let bytes = packed(&self.arena, chunk, at);
            self.garbage += packed_len(bytes);
            *slot = Block::Plain(unpack(bytes));
        }
        match slot {
            Block::Plain(rows) => rows.get_mut(index % BLOCK),
            Block::Packed { .. } => None,
        }
    }

    /// Row `index` changed with `change`, in place where the row is not packed.
    #[inline]
    pub fn change(&mut self, index: usize, change: impl FnOnce(&mut Row)) {
        if index >= self.len {
            return;
        }
        if let Some(Block::Plain(rows)) = self.blocks.get_mut(index / BLOCK) {
            if let Some(row) = rows.get_mut(index % BLOCK) {
                change(row);
            }
            return;
        }
        if let Some(mut row) = self.get(index) {
            change(&mut row);
            let ended = self.ended.get(index / BLOCK).is_some_and(|bits| bits >> (index % BLOCK) & 1 == 1);
            self.put(index, row, ended);
        }
    }

    fn mark(&mut self, block: usize, at: usize, ended: bool) {
        let Some(bits) = self.ended.get_mut(block) else { return };
        let was_full = *bits == u64::MAX;
        if ended {
            *bits |= 1 << at;
        } else {
            *bits &= !(1 << at);
        }
        if *bits == u64::MAX && !was_full {
            self.waiting.push_back(block as u32);
            while self.waiting.len() > LAG {
                let Some(oldest) = self.waiting.pop_front() else { break };
                self.pack(oldest as usize);
            }
        }
    }

    /// Packs block `block` if its tasks are all still ended.
    fn pack(&mut self, block: usize) {
        if self.ended.get(block) != Some(&u64::MAX) {
            return;
        }
        let Some(slot) = self.blocks.get_mut(block) else { return };
        let Block::Plain(rows) = slot else { return };
        if !pack(rows, &mut self.scratch) {
            return;
        }
        if let Some((chunk, at)) = arena_put(&mut self.arena, &mut self.free_chunks, &self.scratch)
            && let Block::Plain(rows) = std::mem::replace(slot, Block::Packed { chunk, at })
        {
            self.spare = Some(rows);
        }
    }

    /// Number of blocks packed.
    #[cfg(test)]
    pub fn packed_blocks(&self) -> usize {
        self.blocks.iter().filter(|b| matches!(b, Block::Packed { .. })).count()
    }

    pub fn heap_bytes(&self) -> usize {
        let plain = self.blocks.iter().filter(|b| matches!(b, Block::Plain(_))).count();
        plain * size_of::<[Row; BLOCK]>()
            + self.arena.iter().chain(&self.free_chunks).map(Vec::capacity).sum::<usize>()
            + self.arena.capacity() * size_of::<Vec<u8>>()
            + self.scratch.capacity()
            + usize::from(self.spare.is_some()) * size_of::<[Row; BLOCK]>()
            + self.blocks.capacity() * size_of::<Block>()
            + self.ended.capacity() * size_of::<u64>()
            + self.waiting.capacity() * size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes block `block` takes packed, from its head.
    fn packed_size(rows: &Rows, block: usize) -> usize {
        let Some(&Block::Packed { chunk, at }) = rows.blocks.get(block) else { return 0 };
        packed_len(packed(&rows.arena, chunk, at))
    }

    fn row(i: u32, spread: u32) -> Row {
        Row {
            low: [i, 7, 1_000_000 + i * spread, if i.is_multiple_of(5) { 0 } else { 2_000_000 + i * spread }],
            intervals: IntervalRange { start: i * 2, len: 2 },
            stack: StackId(i % 3),
            shape: i % 4,
        }
    }

    #[test]
    fn ended_blocks_are_packed_and_read_back_as_pushed() {
        let mut rows = Rows::default();
        let want: Vec<Row> = (0..(BLOCK * (LAG + 4)) as u32).map(|i| row(i, 700 + i % 3)).collect();
        for r in &want {
            rows.push(*r, true);
        }
        assert!(rows.blocks.iter().take(4).all(|b| matches!(b, Block::Packed { .. })));
        assert!(rows.blocks.iter().skip(4).all(|b| matches!(b, Block::Plain(_))));
        for (i, r) in want.iter().enumerate() {
            assert_eq!(rows.get(i), Some(*r), "row {i}");
            assert_eq!(rows.word(i, SHAPE_WORD), Some(r.shape));
        }
        assert_eq!(rows.get(want.len()), None);
        // Packed, each row takes a byte for its id, interval start, stack and shape; two for its
        // start (64 starts 702 ns apart) and three for its end (some none, as 0); none for its
        // creator or interval count (the same in every row).
        let packed: usize = (0..4).map(|b| packed_size(&rows, b)).sum();
        assert_eq!(packed, 4 * (HEAD + 9 * BLOCK + PAD));
    }

    #[test]
    fn changes_to_packed_rows_fit_in_place_or_unpack_the_block() {
        let mut rows = Rows::default();
        let want: Vec<Row> = (0..(BLOCK * (LAG + 2)) as u32).map(|i| row(i, 1)).collect();
        for r in &want {
            rows.push(*r, true);
        }
        assert!(matches!(rows.blocks.first(), Some(Block::Packed { .. })));
        let mut within = want[3];
        within.stack = StackId(1);
        rows.put(3, within, true);
        assert!(matches!(rows.blocks.first(), Some(Block::Packed { .. })));
        assert_eq!(rows.get(3), Some(within));
        rows.change(5, |r| r.intervals.len = 1 << 20);
        assert!(matches!(rows.blocks.first(), Some(Block::Plain(_))));
        let mut changed = want.clone();
        changed[3] = within;
        changed[5].intervals.len = 1 << 20;
        // A value under the base unpacks too.
        rows.change(BLOCK + 1, |r| r.low[1] = 0);
        changed[BLOCK + 1].low[1] = 0;
        for (i, r) in changed.iter().enumerate() {
            assert_eq!(rows.get(i), Some(*r), "row {i}");
        }
    }

    #[test]
    fn blocks_unpacked_by_changes_are_packed_again_when_the_table_is_trimmed() {
        let mut rows = Rows::default();
        let n = BLOCK * (LAG + 64);
        for i in 0..n as u32 {
            rows.push(row(i, 1), true);
        }
        assert_eq!(rows.packed_blocks(), 64);
        // A parser's last pass: every row's intervals moved where no packed block reaches.
        let mut want: Vec<Row> = (0..n as u32).map(|i| row(i, 1)).collect();
        for (i, w) in want.iter_mut().enumerate() {
            w.intervals = IntervalRange { start: 1_000_000 - i as u32 * 3, len: 2 };
            rows.change(i, |r| r.intervals = w.intervals);
        }
        assert_eq!(rows.packed_blocks(), 0);
        let before = rows.heap_bytes();
        rows.shrink_to_fit();
        // All packed, the waiting ones too, and the arena copied without the unpacked bytes (64
        // blocks' of 160).
        assert_eq!(rows.packed_blocks(), n / BLOCK);
        assert_eq!(rows.garbage, 0);
        assert!(rows.heap_bytes() < before / 2, "{} of {before} bytes", rows.heap_bytes());
        for (i, w) in want.iter().enumerate() {
            assert_eq!(rows.get(i), Some(*w), "row {i}");
        }
        // Packing goes on as before after a trim.
        for i in 0..(BLOCK * (LAG + 1)) as u32 {
            rows.push(row(i, 1), true);
        }
        assert_eq!(rows.packed_blocks(), n / BLOCK + 1);
    }

    #[test]
    fn a_block_with_a_live_task_stays_plain_until_it_ends() {
        let mut rows = Rows::default();
        for i in 0..(BLOCK * (LAG + 3)) as u32 {
            rows.push(row(i, 1), i != 10);
        }
        assert!(matches!(rows.blocks.first(), Some(Block::Plain(_))));
        assert!(matches!(rows.blocks.get(1), Some(Block::Packed { .. })));
        rows.put(10, row(10, 1), true);
        for i in 0..(BLOCK * LAG) as u32 {
            rows.push(row(i, 1), true);
        }
        assert!(matches!(rows.blocks.first(), Some(Block::Packed { .. })));
        assert_eq!(rows.get(10), Some(row(10, 1)));
    }

    #[test]
    fn wide_and_extreme_words_survive_packing() {
        let mut rows = Rows::default();
        let mut next = crate::testing::xorshift(0xb10c);
        let want: Vec<Row> = (0..BLOCK * (LAG + 3))
            .map(|i| {
                let r = next();
                let words: [u32; WORDS] = std::array::from_fn(|w| match (i / BLOCK + w) % 4 {
                    0 => r as u32,
                    1 => u32::MAX - (r % 300) as u32,
                    2 => (r % 70_000) as u32,
                    _ => 5,
                });
                from_words(words)
            })
            .collect();
        for r in &want {
            rows.push(*r, true);
        }
        assert!(rows.blocks.iter().any(|b| matches!(b, Block::Packed { .. })));
        for (i, r) in want.iter().enumerate() {
            assert_eq!(rows.get(i), Some(*r), "row {i}");
        }
    }

    #[test]
    fn a_second_table_packs_into_the_chunks_of_the_first() {
        let want: Vec<Row> = (0..(BLOCK * 700) as u32).map(|i| row(i, 900)).collect();
        let mut first = Rows::default();
        for r in &want {
            first.push(*r, true);
        }
        let chunks: Vec<*const u8> = first.arena.iter().map(Vec::as_ptr).collect();
        assert!(chunks.len() > 3, "{} chunks", chunks.len());
        let mut second = Rows::default();
        second.reuse(first);
        for r in &want {
            second.push(*r, true);
        }
        // The same chunks, in the same order, and none left over.
        assert_eq!(second.arena.iter().map(Vec::as_ptr).collect::<Vec<_>>(), chunks);
        assert!(second.free_chunks.is_empty());
        for (i, r) in want.iter().enumerate() {
            assert_eq!(second.get(i), Some(*r), "row {i}");
        }
    }
}
