//! What an archive holds: gzip (a `.tar.gz`'s tar is then searched raw) and zip, nested up
//! to [`DEPTH`] levels, each within budgets.
//!
//! An archive is data someone else may have crafted: a 31 MB zip can list 65,535 entries
//! that all point at one stream, a 60 KB gzip can inflate to 60 MB. So every archive, and
//! all archives of one scan together, are bounded in what they may cost, counted as the bytes
//! flow (not from what the archive declares):
//!
//! | budget | per archive | per scan |
//! |---|---|---|
//! | compressed bytes read | twice its size, plus 1 MiB (a byte read twice is a bomb) | [`SCAN_COMPRESSED`] |
//! | bytes inflated | [`ARCHIVE_INFLATED`], and at most [`RATIO`]× its size (beyond 1 MiB) | [`SCAN_INFLATED`] |
//! | zip entries | [`ARCHIVE_ENTRIES`] | [`SCAN_ENTRIES`] |
//! | nesting | [`DEPTH`] levels | |
//! | time | [`ARCHIVE_TIME`] | [`SCAN_TIME`] |
//!
//! When one is hit, what was read so far is searched, the rest is not, and the report gets a
//! warning naming the file and the budget.

use crate::collect::Collector;
use crate::probes::content::{self, Mode, Tally, SNIFF};
use std::cell::{Cell, RefCell};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Bytes one archive may inflate to.
pub const ARCHIVE_INFLATED: u64 = 64 << 20;
/// How many times its own size an archive may inflate to, past its first MiB.
pub const RATIO: u64 = 50;
/// Entries of one zip searched.
pub const ARCHIVE_ENTRIES: u64 = 10_000;
/// Archives inside archives: a zip in a gzip in a zip is as deep as it goes.
pub const DEPTH: usize = 3;
/// Time one archive may take.
pub const ARCHIVE_TIME: Duration = Duration::from_secs(2);
/// Bytes all archives of one scan may inflate to.
pub const SCAN_INFLATED: u64 = 512 << 20;
/// Compressed bytes all archives of one scan may read.
pub const SCAN_COMPRESSED: u64 = 2 << 30;
/// Zip entries one scan searches.
pub const SCAN_ENTRIES: u64 = 100_000;
/// Time all archives of one scan may take.
pub const SCAN_TIME: Duration = Duration::from_secs(10);

// What the archives of one scan have cost: kept by the collector, below the probes.
pub use crate::collect::ScanBudget;

impl ScanBudget {
    /// Why no more archive may be opened in this scan, if so.
    fn spent(&self) -> Option<String> {
        if self.inflated.load(Ordering::Relaxed) >= SCAN_INFLATED {
            Some(format!("{} MiB inflated", SCAN_INFLATED >> 20))
        } else if self.compressed.load(Ordering::Relaxed) >= SCAN_COMPRESSED {
            Some(format!("{} GiB read", SCAN_COMPRESSED >> 30))
        } else if self.entries.load(Ordering::Relaxed) >= SCAN_ENTRIES {
            Some(format!("{SCAN_ENTRIES} zip entries"))
        } else if self.nanos.load(Ordering::Relaxed) >= SCAN_TIME.as_nanos() as u64 {
            Some(format!("{} s", SCAN_TIME.as_secs()))
        } else {
            None
        }
    }
}

const GZIP: &[u8] = &[0x1f, 0x8b];
const ZIP: &[u8] = b"PK\x03\x04";

/// Whether `head` starts an archive this module opens.
pub fn is_archive(head: &[u8]) -> bool {
    head.starts_with(GZIP) || head.starts_with(ZIP)
}

/// Searches the archive `source` (`size` bytes, at `path`) within its budgets and the scan's;
/// returns the providers of the secrets found.
pub fn scan(
    c: &Collector,
    path: &Path,
    source: impl Read + Seek,
    size: u64,
) -> Vec<Option<String>> {
    if let Some(spent) = c.archives.spent() {
        c.warn(format!(
            "not searched: {} (this scan's archive budget is spent: {spent})",
            path.display()
        ));
        return Vec::new();
    }
    let started = Instant::now();
    let time_left = SCAN_TIME.saturating_sub(Duration::from_nanos(
        c.archives.nanos.load(Ordering::Relaxed),
    ));
    let run = Run {
        c,
        path,
        deadline: started + ARCHIVE_TIME.min(time_left),
        size,
        compressed: Cell::new(0),
        inflated: Cell::new(0),
        entries: Cell::new(0),
        stopped: RefCell::new(None),
        providers: RefCell::new(Vec::new()),
    };
    run.archive(
        Metered {
            inner: source,
            run: &run,
        },
        1,
    );
    c.archives
        .nanos
        .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    if let Some(why) = run.stopped.take() {
        c.warn(format!("partly searched: {} ({why})", path.display()));
    }
    run.providers.into_inner()
}

/// One archive being searched: what it has cost so far, and why it stopped.
struct Run<'a> {
    c: &'a Collector<'a>,
    path: &'a Path,
    deadline: Instant,
    size: u64,
    compressed: Cell<u64>,
    inflated: Cell<u64>,
    entries: Cell<u64>,
    stopped: RefCell<Option<String>>,
    providers: RefCell<Vec<Option<String>>>,
}

impl Run<'_> {
    fn is_stopped(&self) -> bool {
        self.stopped.borrow().is_some()
    }

    /// Records the first reason to stop and returns the error that ends the read.
    fn stop(&self, why: String) -> io::Error {
        self.stopped.borrow_mut().get_or_insert(why);
        io::Error::other("archive budget")
    }

    fn check_time(&self) -> io::Result<()> {
        if Instant::now() >= self.deadline {
            return Err(self.stop(format!(
                "took longer than {} s, the time one archive may take",
                ARCHIVE_TIME.as_secs()
            )));
        }
        Ok(())
    }

    fn count_compressed(&self, n: usize) -> io::Result<()> {
        let total = self.compressed.get() + n as u64;
        self.compressed.set(total);
        let scan = self
            .c
            .archives
            .compressed
            .fetch_add(n as u64, Ordering::Relaxed)
            + n as u64;
        if total > 2 * self.size + (1 << 20) {
            return Err(self.stop(
                "its entries read the same compressed bytes again and again: a zip bomb?".into(),
            ));
        }
        if scan > SCAN_COMPRESSED {
            return Err(self.stop(format!(
                "this scan's archive budget is spent: {} GiB read",
                SCAN_COMPRESSED >> 30
            )));
        }
        self.check_time()
    }

    fn count_inflated(&self, n: usize) -> io::Result<()> {
        let total = self.inflated.get() + n as u64;
        self.inflated.set(total);
        let scan = self
            .c
            .archives
            .inflated
            .fetch_add(n as u64, Ordering::Relaxed)
            + n as u64;
        if total > ARCHIVE_INFLATED {
            return Err(self.stop(format!(
                "inflates to more than {} MiB",
                ARCHIVE_INFLATED >> 20
            )));
        }
        if total > (1 << 20) && total > RATIO * self.size {
            return Err(self.stop(format!(
                "inflates to more than {RATIO} times its size: a compression bomb?"
            )));
        }
        if scan > SCAN_INFLATED {
            return Err(self.stop(format!(
                "this scan's archive budget is spent: {} MiB inflated",
                SCAN_INFLATED >> 20
            )));
        }
        self.check_time()
    }

    fn count_entry(&self) -> bool {
        let n = self.entries.get() + 1;
        self.entries.set(n);
        let scan = self.c.archives.entries.fetch_add(1, Ordering::Relaxed) + 1;
        if n > ARCHIVE_ENTRIES {
            self.stop(format!("more than {ARCHIVE_ENTRIES} entries"));
        } else if scan > SCAN_ENTRIES {
            self.stop(format!(
                "this scan's archive budget is spent: {SCAN_ENTRIES} zip entries"
            ));
        }
        !self.is_stopped()
    }

    /// An archive at `depth` (1: the file itself).
    fn archive(&self, mut source: impl Read + Seek, depth: usize) {
        let mut magic = [0u8; 4];
        let got = read_up_to(&mut source, &mut magic);
        if source.seek(SeekFrom::Start(0)).is_err() {
            return;
        }
        if magic[..got].starts_with(ZIP) {
            self.zip(source, depth);
        } else {
            let mut inflated = Inflated {
                inner: flate2::read::MultiGzDecoder::new(source),
                run: self,
            };
            self.stream(&mut inflated, depth);
        }
    }

    fn zip(&self, source: impl Read + Seek, depth: usize) {
        let Ok(mut zip) = zip::ZipArchive::new(source) else {
            return;
        };
        for i in 0..zip.len() {
            if self.is_stopped() || !self.count_entry() {
                break;
            }
            let Ok(entry) = zip.by_index(i) else { continue };
            if !entry.is_file() {
                continue;
            }
            self.stream(
                &mut Inflated {
                    inner: entry,
                    run: self,
                },
                depth,
            );
        }
    }

    /// The content of an archive at `depth`: another archive, or text to search. (A `dyn`
    /// reader: the nesting is data, not a type.)
    fn stream(&self, r: &mut dyn Read, depth: usize) {
        let mut head = vec![0u8; SNIFF];
        let got = read_up_to(r, &mut head);
        head.truncate(got);
        if is_archive(&head) {
            if depth >= DEPTH {
                self.stop(format!(
                    "archives nested more than {DEPTH} levels deep are not searched"
                ));
                return;
            }
            if head.starts_with(GZIP) {
                let inner = flate2::read::MultiGzDecoder::new(head.as_slice().chain(r));
                self.stream(&mut Inflated { inner, run: self }, depth + 1);
            } else {
                // A zip needs to seek: the nested one is held in memory, within the budget
                // of what this archive may inflate to.
                let mut whole = head;
                if r.read_to_end(&mut whole).is_ok() {
                    self.zip(std::io::Cursor::new(whole), depth + 1);
                }
            }
            return;
        }
        let mut tally = Tally::default();
        let _ = content::scan_stream(
            self.c,
            self.path,
            head.as_slice().chain(r),
            u64::MAX,
            Mode::archive(),
            &mut tally,
        );
        self.providers.borrow_mut().extend(tally.providers);
    }
}

/// Reads until `buf` is full or the stream ends; errors end it too (the budget's reason is
/// kept by the run).
fn read_up_to(r: &mut (impl Read + ?Sized), buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    got
}

/// The archive's own bytes, counted as they are read.
struct Metered<'r, R> {
    inner: R,
    run: &'r Run<'r>,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.run.count_compressed(n)?;
        Ok(n)
    }
}

impl<R: Seek> Seek for Metered<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// What an archive inflates to, counted as it is read (also when the entry then fails its
/// checksum: one crafted entry listed a thousand times must not inflate a thousand times).
struct Inflated<'r, R> {
    inner: R,
    run: &'r Run<'r>,
}

impl<R: Read> Read for Inflated<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.run.count_inflated(n)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{NoSink, ScanOptions};
    use crate::home::Home;
    use std::io::Write;

    fn gzip_of(text: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text).unwrap();
        e.finish().unwrap()
    }

    /// The time budgets, without waiting: a scan whose archives have used all their time
    /// opens no more, and one with a moment left stops the archive at its first read.
    #[test]
    fn time_budgets_stop_an_archive_and_name_it() {
        let home = Home::new("/nonexistent-home", std::iter::empty());
        let options = ScanOptions::default();
        let data = gzip_of(b"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\n");
        for (spent, says) in [
            (
                SCAN_TIME,
                "not searched: /h/a.gz (this scan's archive budget is spent: 10 s)",
            ),
            (
                SCAN_TIME - Duration::from_nanos(1),
                "partly searched: /h/a.gz (took longer than 2 s, the time one archive may take)",
            ),
        ] {
            let c = Collector::new(&home, &options, &NoSink);
            c.archives
                .nanos
                .store(spent.as_nanos() as u64, Ordering::Relaxed);
            let found = scan(&c, Path::new("/h/a.gz"), std::io::Cursor::new(&data), 40);
            assert!(found.is_empty());
            let warned = c.any_warning(|w| w == says);
            assert!(warned, "{says}");
        }
    }
}
