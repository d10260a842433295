//! Cursor pagination over time-ordered ids, in the WorkOS `list`/`list_metadata` shape.

/// A bound value for statements assembled at run time. Nulls carry their column type, which
/// PostgreSQL needs to type the parameter.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Int(i64),
    Bool(bool),
    NullText,
    NullInt,
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<&String> for Value {
    fn from(text: &String) -> Self {
        Value::Text(text.clone())
    }
}

impl From<i64> for Value {
    fn from(int: i64) -> Self {
        Value::Int(int)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Self {
        Value::Bool(flag)
    }
}

impl From<Option<&str>> for Value {
    fn from(text: Option<&str>) -> Self {
        text.map_or(Value::NullText, Value::from)
    }
}

impl From<Option<String>> for Value {
    fn from(text: Option<String>) -> Self {
        text.map_or(Value::NullText, Value::Text)
    }
}

impl From<&Option<String>> for Value {
    fn from(text: &Option<String>) -> Self {
        text.as_deref().map_or(Value::NullText, Value::from)
    }
}

impl From<Option<i64>> for Value {
    fn from(int: Option<i64>) -> Self {
        int.map_or(Value::NullInt, Value::Int)
    }
}

impl From<portico_domain::Timestamp> for Value {
    fn from(at: portico_domain::Timestamp) -> Self {
        Value::Int(at.unix_ms())
    }
}

impl From<Option<portico_domain::Timestamp>> for Value {
    fn from(at: Option<portico_domain::Timestamp>) -> Self {
        at.map_or(Value::NullInt, |at| Value::Int(at.unix_ms()))
    }
}

/// Builds an array of `Value`s from heterogeneous arguments.
macro_rules! values {
    ($($value:expr),* $(,)?) => {
        [$($crate::page::Value::from($value)),*]
    };
}
pub(crate) use values;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

/// What a list request asks for; cursors are object ids.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: u32,
    pub before: Option<String>,
    pub after: Option<String>,
    pub order: Order,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: 10, before: None, after: None, order: Order::Desc }
    }
}

/// One page and the cursors to the neighbouring pages (`None` at either end).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { data: self.data.into_iter().map(f).collect(), before: self.before, after: self.after }
    }
}

/// Appends the cursor condition and ordering for `request` to a query whose WHERE clause is
/// already open (`… WHERE <filters>`), using `id_column` as the cursor. Fetches one row more
/// than the limit so `finish` can tell whether another page follows.
pub(crate) fn apply(sql: &mut String, values: &mut Vec<Value>, id_column: &str, request: &PageRequest) {
    // Paging backwards (`before`) walks the opposite way and is reversed in `finish`.
    let forward_desc = request.order == Order::Desc;
    let (cursor, walk_desc) = match (&request.after, &request.before) {
        (Some(after), _) => (Some((after, if forward_desc { "<" } else { ">" })), forward_desc),
        (None, Some(before)) => (Some((before, if forward_desc { ">" } else { "<" })), !forward_desc),
        (None, None) => (None, forward_desc),
    };
    if let Some((id, op)) = cursor {
        values.push(Value::Text(id.clone()));
        sql.push_str(&format!(" AND {id_column} {op} ${}", values.len()));
    }
    sql.push_str(&format!(
        " ORDER BY {id_column} {} LIMIT {}",
        if walk_desc { "DESC" } else { "ASC" },
        request.limit + 1
    ));
}

/// Turns the rows fetched by a query built with `apply` into a page with its cursors.
pub(crate) fn finish<T>(mut rows: Vec<T>, request: &PageRequest, id_of: impl Fn(&T) -> String) -> Page<T> {
    let has_more = rows.len() > request.limit as usize;
    rows.truncate(request.limit as usize);
    let backwards = request.after.is_none() && request.before.is_some();
    if backwards {
        rows.reverse();
    }
    let first = rows.first().map(&id_of);
    let last = rows.last().map(&id_of);
    let (more_before, more_after) = if backwards { (has_more, true) } else { (request.after.is_some(), has_more) };
    Page { before: if more_before { first } else { None }, after: if more_after { last } else { None }, data: rows }
}

/// `$n, $n+1, …` placeholders for an `IN (…)` list, pushing the values.
pub(crate) fn in_list(values: &mut Vec<Value>, items: impl IntoIterator<Item = String>) -> String {
    let mut placeholders = Vec::new();
    for item in items {
        values.push(Value::Text(item));
        placeholders.push(format!("${}", values.len()));
    }
    if placeholders.is_empty() {
        // `IN ()` is not valid SQL; NULL matches nothing.
        "NULL".to_owned()
    } else {
        placeholders.join(", ")
    }
}
