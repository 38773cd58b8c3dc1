//! The agent's model-slot state machine, with committed single-operator
//! models: what each request does before a model, while one is uploaded,
//! after a refused commit, after a run, and after a new upload; and where
//! outputs are read from (activations, data computed at load, constants in
//! the model, in the RAM or the flash slot).

use vlab_protocol::{CHUNK, ErrorCode, Event, Request, RunSummary, Stream, chunk_crc};

use crate::support::{
    ask, error, flash_image, host_run, op_model, read_output, upload, with_agent, with_output,
    write_inputs,
};

/// Two inputs, one 480-byte output: two chunks to read.
const ADD: &str = "add_broadcast_relu_int32.tflite";
/// One input, three outputs.
const SPLIT: &str = "split_axis1_int8.tflite";

fn run(id: u32) -> Request {
    Request::Run {
        id,
        warmup: 1,
        iterations: 3,
        samples: true,
        per_layer: true,
    }
}

fn done(events: &[Event]) -> RunSummary {
    match events {
        [Event::Done(summary)] => *summary,
        other => panic!("expected Done, got {other:?}"),
    }
}

fn read_output_at(index: u8, offset: u32) -> Request {
    Request::ReadOutput { index, offset }
}

#[test]
fn without_a_model_nothing_runs_or_reads() {
    let model = op_model(ADD);
    with_agent(&[], |agent| {
        let input = Request::InputChunk {
            index: 0,
            offset: 0,
            data: heapless::Vec::from_slice(&[1, 2, 3]).unwrap(),
        };
        assert_eq!(error(&ask(agent, input.clone())), ErrorCode::NoModel);
        assert_eq!(error(&ask(agent, run(1))), ErrorCode::NoModel);
        assert_eq!(error(&ask(agent, read_output_at(0, 0))), ErrorCode::NoRun);
        assert_eq!(
            error(&ask(agent, Request::ReadSamples { first: 0 })),
            ErrorCode::NoRun
        );
        assert_eq!(
            error(&ask(agent, Request::ReadLayer { index: 0 })),
            ErrorCode::NoRun
        );
        // Midway through an upload, likewise.
        let begin = Request::ModelBegin {
            len: model.len() as u32,
        };
        assert!(matches!(ask(agent, begin)[..], [Event::Received { .. }]));
        assert_eq!(error(&ask(agent, input)), ErrorCode::NoModel);
        assert_eq!(error(&ask(agent, run(1))), ErrorCode::NoModel);
        let commit = Request::ModelCommit {
            crc: chunk_crc(&model),
        };
        assert_eq!(error(&ask(agent, commit)), ErrorCode::BadChunk);
    });
}

#[test]
fn a_loaded_model_gives_no_output_before_its_first_run() {
    let model = op_model(ADD);
    let (inputs, _) = host_run(&model, 1);
    with_agent(&[], |agent| {
        assert!(matches!(
            upload(agent, &model)[..],
            [Event::ModelStatus { present: true, .. }]
        ));
        write_inputs(agent, &inputs);
        assert_eq!(error(&ask(agent, read_output_at(0, 0))), ErrorCode::NoRun);
        assert_eq!(
            error(&ask(agent, Request::ReadLayer { index: 0 })),
            ErrorCode::NoRun
        );
    });
}

#[test]
fn outputs_are_read_in_chunks_as_the_run_left_them() {
    for (name, seed) in [(ADD, 3), (SPLIT, 5)] {
        let model = op_model(name);
        let (inputs, outputs) = host_run(&model, seed);
        with_agent(&[], |agent| {
            upload(agent, &model);
            write_inputs(agent, &inputs);
            done(&ask(agent, run(1)));
            for (index, expected) in outputs.iter().enumerate() {
                assert_eq!(
                    &read_output(agent, index as u8),
                    expected,
                    "{name} output {index}"
                );
                // Read again, out of order: the same bytes.
                let tail = expected.len().saturating_sub(7) as u32;
                let [Event::Output { data, len, .. }] =
                    &ask(agent, read_output_at(index as u8, tail))[..]
                else {
                    panic!("no Output")
                };
                assert_eq!(
                    (&data[..], *len as usize),
                    (&expected[tail as usize..], expected.len())
                );
            }
            // Past the end: no bytes; past the last output: an error.
            let past = read_output_at(0, 100_000);
            assert!(
                matches!(&ask(agent, past)[..], [Event::Output { data, .. }] if data.is_empty())
            );
            let missing = read_output_at(outputs.len() as u8, 0);
            assert_eq!(error(&ask(agent, missing)), ErrorCode::BadIndex);
        });
    }
}

#[test]
fn a_resent_run_commit_or_query_keeps_the_last_run() {
    let model = op_model(ADD);
    let (inputs, outputs) = host_run(&model, 7);
    with_agent(&[], |agent| {
        let status = upload(agent, &model);
        write_inputs(agent, &inputs);
        let summary = done(&ask(agent, run(4)));
        let commit = Request::ModelCommit {
            crc: chunk_crc(&model),
        };
        assert_eq!(ask(agent, commit), status);
        let query = Request::ModelQuery {
            len: model.len() as u32,
            crc: chunk_crc(&model),
        };
        assert_eq!(ask(agent, query), status);
        // Not run again: the same Done, ticks and all.
        assert_eq!(done(&ask(agent, run(4))), summary);
        assert_eq!(read_output(agent, 0), outputs[0]);
        assert!(matches!(
            ask(agent, Request::ReadSamples { first: 0 })[..],
            [Event::Samples { .. }]
        ));
    });
}

#[test]
fn a_new_upload_forgets_the_model_and_its_run() {
    let (add, split) = (op_model(ADD), op_model(SPLIT));
    let (inputs, _) = host_run(&add, 2);
    with_agent(&[], |agent| {
        upload(agent, &add);
        write_inputs(agent, &inputs);
        done(&ask(agent, run(1)));
        let begin = Request::ModelBegin {
            len: split.len() as u32,
        };
        let received = vec![Event::Received {
            stream: Stream::Model,
            end: 0,
        }];
        assert_eq!(ask(agent, begin), received);
        assert_eq!(error(&ask(agent, read_output_at(0, 0))), ErrorCode::NoRun);
        assert_eq!(
            error(&ask(agent, Request::ReadSamples { first: 0 })),
            ErrorCode::NoRun
        );
        assert_eq!(
            error(&ask(agent, Request::ReadLayer { index: 0 })),
            ErrorCode::NoRun
        );
        // The last run's id does not answer for a model no longer there.
        assert_eq!(error(&ask(agent, run(1))), ErrorCode::NoModel);
        let query = Request::ModelQuery {
            len: add.len() as u32,
            crc: chunk_crc(&add),
        };
        let absent = vec![Event::ModelStatus {
            present: false,
            arena_bytes: 0,
        }];
        assert_eq!(ask(agent, query), absent);
        // The new model runs under the same id.
        let (inputs, outputs) = host_run(&split, 4);
        upload(agent, &split);
        write_inputs(agent, &inputs);
        assert_eq!(done(&ask(agent, run(1))).iterations, 3);
        assert_eq!(read_output(agent, 2), outputs[2]);
    });
}

#[test]
fn a_refused_commit_leaves_no_model() {
    let model = op_model(ADD);
    with_agent(&[], |agent| {
        let begin = Request::ModelBegin {
            len: model.len() as u32,
        };
        ask(agent, begin);
        for (i, chunk) in model.chunks(CHUNK).enumerate() {
            let request = Request::ModelChunk {
                offset: (i * CHUNK) as u32,
                crc: chunk_crc(chunk),
                data: heapless::Vec::from_slice(chunk).unwrap(),
            };
            assert!(matches!(ask(agent, request)[..], [Event::Received { .. }]));
        }
        let wrong = Request::ModelCommit {
            crc: chunk_crc(&model) ^ 1,
        };
        assert_eq!(error(&ask(agent, wrong)), ErrorCode::ModelCrc);
        let input = Request::InputChunk {
            index: 0,
            offset: 0,
            data: heapless::Vec::from_slice(&[0; 8]).unwrap(),
        };
        assert_eq!(error(&ask(agent, input)), ErrorCode::NoModel);
        assert_eq!(error(&ask(agent, run(1))), ErrorCode::NoModel);
        // The upload is over: the right CRC now cannot be taken either.
        let right = Request::ModelCommit {
            crc: chunk_crc(&model),
        };
        let [Event::Error { code, detail }] = &ask(agent, right)[..] else {
            panic!("no error")
        };
        assert_eq!(
            (*code, detail.as_str()),
            (ErrorCode::BadChunk, "model incomplete: 380 B received")
        );
    });
}

/// DENSIFY of a constant: its output is computed once, at load, into the
/// arena; BATCH_MATMUL's right-hand side is a constant in the model.
#[test]
fn constant_outputs_are_read_where_they_are() {
    let folded = with_output(&op_model("densify_block_int8.tflite"), 2);
    let constant = with_output(&op_model("batch_matmul_const_rhs_int8.tflite"), 1);
    for model in [folded, constant] {
        let (inputs, outputs) = host_run(&model, 9);
        // Uploaded into the RAM slot.
        with_agent(&[], |agent| {
            upload(agent, &model);
            write_inputs(agent, &inputs);
            done(&ask(agent, run(1)));
            assert_eq!(read_output(agent, 0), outputs[0]);
        });
        // In the flash slot.
        let flash = flash_image(&model, "", 64);
        with_agent(&flash, |agent| {
            let query = Request::ModelQuery {
                len: model.len() as u32,
                crc: chunk_crc(&model),
            };
            assert!(matches!(
                ask(agent, query)[..],
                [Event::ModelStatus { present: true, .. }]
            ));
            write_inputs(agent, &inputs);
            done(&ask(agent, run(1)));
            assert_eq!(read_output(agent, 0), outputs[0]);
        });
    }
}
