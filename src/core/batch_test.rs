//! Unit tests of a batch's answers (`core::batch::Answers`), a child module of `batch` so
//! that they reach its private methods.

use super::*;

/// The statuses and, for driver errors, the codes of a batch reply's responses.
fn read_back(buf: &[u8]) -> Vec<String> {
    let mut r = Reader::new(buf);
    assert_eq!(r.u8().unwrap(), status::OK);
    let n = r.u32().unwrap();
    (0..n)
        .map(|_| {
            let body = r.bytes().unwrap();
            let mut b = Reader::new(body);
            match b.u8().unwrap() {
                status::OK => format!("ok {}", body.len()),
                status::DRIVER_ERROR => b.str().unwrap().to_string(),
                s => format!("status {s}"),
            }
        })
        .collect()
}

#[test]
fn every_statement_is_answered_in_order_the_refused_one_with_its_error() {
    let (reply, mut rx) = Reply::channel();
    let mut a = Answers::new(reply, 5);
    a.push(Ok(vec![status::OK, 1, 2]));
    a.refuse(2, Error::param("$1: no"));
    a.refuse(3, Error::param("later refusals are not the first"));
    a.push(Ok(vec![status::OK]));
    a.done();
    let buf = rx.try_recv().unwrap().unwrap();
    assert_eq!(
        read_back(&buf),
        [
            "ok 3",
            "ok 1",
            "ERR_INVALID_PARAMETER",
            "ERR_PIPELINE_ABORTED",
            "ERR_PIPELINE_ABORTED"
        ]
    );
}

#[derive(Default)]
struct Collect(std::sync::Mutex<Vec<Vec<u8>>>);

impl crate::core::reply::Sink for Collect {
    fn complete(&self, _id: u32, response: Result<Vec<u8>>) {
        self.0.lock().unwrap().push(response.unwrap());
    }
}

#[test]
fn a_long_batch_hands_its_answers_ahead_in_order_and_the_reply_holds_the_rest() {
    let sink = Arc::new(Collect::default());
    let n = 2 * AHEAD + 3;
    let mut a = Answers::new(Reply::sink(1, sink.clone()), n);
    for i in 0..AHEAD + 10 {
        a.push(Ok(vec![status::OK, i as u8]));
    }
    a.refuse(AHEAD + 10, Error::param("$2: no"));
    a.done();
    let got = sink.0.lock().unwrap();
    // One part of AHEAD responses, then the reply: the 10 after it, the refused one and
    // the aborted rest (which pass AHEAD again: another part on the way).
    let statuses: Vec<(u8, u32)> = got
        .iter()
        .map(|b| (b[0], u32::from_le_bytes([b[1], b[2], b[3], b[4]])))
        .collect();
    assert_eq!(
        statuses,
        [
            (status::BATCH_ANSWERS, AHEAD as u32),
            (status::BATCH_ANSWERS, AHEAD as u32),
            (status::OK, 3)
        ]
    );
    let mut all = Vec::new();
    for b in got.iter() {
        let mut whole = b.clone();
        whole[0] = status::OK;
        all.extend(read_back(&whole));
    }
    assert_eq!(all.len(), n);
    assert!(all[..AHEAD + 10].iter().all(|s| s == "ok 2"));
    assert_eq!(all[AHEAD + 10], "ERR_INVALID_PARAMETER");
    assert!(all[AHEAD + 11..]
        .iter()
        .all(|s| s == "ERR_PIPELINE_ABORTED"));
}

#[test]
fn a_batch_cut_short_answers_the_rest_as_aborted() {
    let (reply, mut rx) = Reply::channel();
    let mut a = Answers::new(reply, 3);
    a.push(Err(Error::param("x")));
    a.done();
    let buf = rx.try_recv().unwrap().unwrap();
    assert_eq!(
        read_back(&buf),
        [
            "ERR_INVALID_PARAMETER",
            "ERR_PIPELINE_ABORTED",
            "ERR_PIPELINE_ABORTED"
        ]
    );
}
