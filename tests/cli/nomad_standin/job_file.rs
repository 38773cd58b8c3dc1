//! deploy/nomad/vlab-benchmark.nomad.hcl as the stand-in reads it: one
//! registration per target, as `nomad job run -var target=T` makes, with
//! the task's strings kept as expressions that the client interpolates when
//! it runs a dispatched job (`${NOMAD_META_x}`, `${NOMAD_TASK_DIR}`, ...).

use std::collections::BTreeMap;
use std::time::Duration;

use hcl::eval::{Context, Evaluate};
use hcl::{Block, Body, Expression, Value};

/// The parameterized job that one target's registration of the file made.
pub struct Registration {
    /// The job's id (`vlab-benchmark-T`).
    pub id: String,
    /// The job's `meta` block, evaluated: the defaults of every dispatch.
    pub meta: BTreeMap<String, String>,
    /// `parameterized.meta_required`.
    pub meta_required: Vec<String>,
    /// `parameterized.meta_optional`.
    pub meta_optional: Vec<String>,
    /// `parameterized.payload`: "optional", "required" or "forbidden".
    pub payload: String,
    /// The one task of the job's one group.
    pub task: Task,
    /// The `var` object the registration was evaluated with.
    vars: Value,
}

/// The task block, its strings still to be interpolated.
pub struct Task {
    /// The task's name (its block's label).
    pub name: String,
    /// `config.args`.
    pub args: Option<Expression>,
    /// The `env` block, in file order.
    pub env: Vec<(String, Expression)>,
    /// The `artifact` blocks.
    pub artifacts: Vec<Artifact>,
    /// The `template` blocks.
    pub templates: Vec<Template>,
    /// `kill_timeout` (Nomad's default, 5 s, when absent).
    pub kill_timeout: Duration,
}

/// An `artifact` block.
pub struct Artifact {
    /// What to download.
    pub source: Expression,
    /// Where to, relative to the task directory.
    pub destination: Expression,
}

/// A `template` block.
pub struct Template {
    /// The template, relative to the task directory.
    pub source: Expression,
    /// Where it is rendered, relative to the task directory.
    pub destination: Expression,
    /// Whether its `KEY=VALUE` lines join the task's environment.
    pub env: bool,
}

impl Registration {
    /// Registers the job file `file` with `-var target=TARGET`: every
    /// variable takes its default but `target`. Panics, as `nomad job run`
    /// fails, when the file is not a job Nomad would accept for the
    /// stand-in's purposes (one group of one task).
    pub fn new(file: &Body, target: &str) -> Self {
        let mut vars = hcl::Map::new();
        for variable in blocks(file, "variable") {
            let name = variable.labels()[0].as_str().to_owned();
            let value = if name == "target" {
                Value::from(target)
            } else {
                let default = attr(variable.body(), "default")
                    .unwrap_or_else(|| panic!("Unset variable {name}"));
                default
                    .evaluate(&Context::new())
                    .unwrap_or_else(|e| panic!("variable {name}: {e}"))
            };
            vars.insert(name, value);
        }
        let vars = Value::Object(vars);
        let mut ctx = Context::new();
        ctx.declare_var("var", vars.clone());
        let string = |expr: &Expression| {
            value_string(
                &expr
                    .evaluate(&ctx)
                    .unwrap_or_else(|e| panic!("{expr}: {e}")),
            )
            .unwrap_or_else(|e| panic!("{expr}: {e}"))
        };
        let strings = |expr: Option<&Expression>| -> Vec<String> {
            expr.map(|expr| match expr.evaluate(&ctx) {
                Ok(Value::Array(items)) => items
                    .iter()
                    .map(|v| value_string(v).unwrap_or_else(|e| panic!("{expr}: {e}")))
                    .collect(),
                other => panic!("{expr}: a list of strings, not {other:?}"),
            })
            .unwrap_or_default()
        };

        let job = one(file, "job");
        let label = job.labels()[0].as_str();
        let job = job.body();
        let id = attr(job, "id").map_or_else(|| label.to_owned(), string);
        let parameterized = one(job, "parameterized").body();
        let meta = blocks(job, "meta")
            .flat_map(|b| b.body().attributes())
            .map(|a| (a.key().to_owned(), string(a.expr())))
            .collect();
        let group = one(job, "group").body();
        let task = one(group, "task");
        let name = task.labels()[0].as_str().to_owned();
        let task = task.body();
        let kill_timeout =
            attr(task, "kill_timeout").map_or(Duration::from_secs(5), |e| duration(&string(e)));
        let task = Task {
            name,
            args: blocks(task, "config").find_map(|c| attr(c.body(), "args").cloned()),
            env: blocks(task, "env")
                .flat_map(|b| b.body().attributes())
                .map(|a| (a.key().to_owned(), a.expr().clone()))
                .collect(),
            artifacts: blocks(task, "artifact")
                .map(|b| Artifact {
                    source: required(b.body(), "artifact", "source"),
                    destination: attr(b.body(), "destination")
                        .cloned()
                        .unwrap_or_else(|| Expression::from("local/")),
                })
                .collect(),
            templates: blocks(task, "template")
                .map(|b| Template {
                    source: required(b.body(), "template", "source"),
                    destination: required(b.body(), "template", "destination"),
                    env: attr(b.body(), "env").is_some_and(|e| string(e) == "true"),
                })
                .collect(),
            kill_timeout,
        };
        Registration {
            id,
            meta,
            meta_required: strings(attr(parameterized, "meta_required")),
            meta_optional: strings(attr(parameterized, "meta_optional")),
            payload: attr(parameterized, "payload").map_or_else(|| "optional".to_owned(), string),
            task,
            vars,
        }
    }

    /// `expr` interpolated for a running task: `var.*` as registered, and
    /// `runtime` (NOMAD_META_x, NOMAD_TASK_DIR, ...) as plain variables.
    pub fn interpolate(
        &self,
        expr: &Expression,
        runtime: &BTreeMap<String, String>,
    ) -> Result<Value, String> {
        let mut ctx = Context::new();
        ctx.declare_var("var", self.vars.clone());
        for (name, value) in runtime {
            ctx.declare_var(name.as_str(), value.as_str());
        }
        expr.evaluate(&ctx).map_err(|e| format!("{expr}: {e}"))
    }
}

/// A string, number or bool as the string Nomad would see.
pub fn value_string(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("a string, not {other:?}")),
    }
}

fn blocks<'a>(body: &'a Body, name: &'a str) -> impl Iterator<Item = &'a Block> {
    body.blocks().filter(move |b| b.identifier() == name)
}

fn one<'a>(body: &'a Body, name: &'a str) -> &'a Block {
    let mut found = blocks(body, name);
    let first = found
        .next()
        .unwrap_or_else(|| panic!("no {name} block in the job file"));
    assert!(
        found.next().is_none(),
        "the stand-in runs jobs with one {name} block"
    );
    first
}

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

fn required(body: &Body, block: &str, key: &str) -> Expression {
    attr(body, key)
        .cloned()
        .unwrap_or_else(|| panic!("{block} block without {key}"))
}

/// A Go duration as Nomad writes them: "30s", "1m30s", "500ms", "1h".
fn duration(text: &str) -> Duration {
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let number: u64 = rest[..digits]
            .parse()
            .unwrap_or_else(|_| panic!("duration {text:?}"));
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        total += match &rest[..unit] {
            "h" => Duration::from_secs(number * 3600),
            "m" => Duration::from_secs(number * 60),
            "s" => Duration::from_secs(number),
            "ms" => Duration::from_millis(number),
            other => panic!("duration {text:?}: unit {other:?}"),
        };
        rest = &rest[unit..];
    }
    total
}
