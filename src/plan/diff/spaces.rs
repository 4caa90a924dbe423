//! Space-by-space comparison shared by users and teams: which managed spaces a principal touches,
//! and what it wants against what it holds in each.

use super::*;

/// The managed spaces (name order) where a principal is declared with a grant or holds a live
/// membership (`have`, by space id): the only ones the diff can find a difference in.
pub(super) fn touched_spaces<'d, G, M>(
    managed: &ManagedSpaces<'d>,
    declared: &BTreeMap<String, G>,
    have: &[(&str, M)],
) -> Vec<(&'d String, &'d DesiredSpace)> {
    let mut out: Vec<(&String, &DesiredSpace)> = declared
        .keys()
        .filter_map(|n| managed.by_name.get(n.as_str()).copied())
        .collect();
    for (id, _) in have {
        if let Some(named) = managed.by_id.get(id) {
            out.extend(named.iter().copied());
        }
    }
    out.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The managed spaces, looked up by local name and by space id (several names may share an id).
pub(super) struct ManagedSpaces<'d> {
    by_name: FxHashMap<&'d str, (&'d String, &'d DesiredSpace)>,
    by_id: FxHashMap<&'d str, Vec<(&'d String, &'d DesiredSpace)>>,
}

impl<'d> ManagedSpaces<'d> {
    pub(super) fn new(desired: &'d DesiredState) -> Self {
        let mut by_id: FxHashMap<&str, Vec<_>> = FxHashMap::default();
        for (name, space) in &desired.spaces {
            by_id
                .entry(space.id.as_str())
                .or_default()
                .push((name, space));
        }
        ManagedSpaces {
            by_name: desired
                .spaces
                .iter()
                .map(|(n, s)| (n.as_str(), (n, s)))
                .collect(),
            by_id,
        }
    }
}

/// One live membership per space id (the first by membership id), sorted by space id.
pub(super) fn first_per_space<'a, M>(
    memberships: &[&'a M],
    space_id: impl Fn(&'a M) -> &'a str,
) -> Vec<(&'a str, &'a M)> {
    let mut out: Vec<(&str, &M)> = memberships.iter().map(|m| (space_id(m), *m)).collect();
    // Stable: among memberships of one space the first by id stays first and is kept.
    out.sort_by(|a, b| a.0.cmp(b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The membership held in `space_id`, from [`first_per_space`]'s result.
pub(super) fn held_in<'a, M>(have: &[(&'a str, &'a M)], space_id: &str) -> Option<&'a M> {
    have.binary_search_by(|(id, _)| (*id).cmp(space_id))
        .ok()
        .map(|i| have[i].1)
}

/// What the file wants in one space: the access resolved, as written, and where it is written.
type Want<'a> = (Resolved<'a>, &'a SpaceAccess, Span);

/// For each managed space a principal is declared in or holds a membership of (`held`), in name
/// order: the space, what the file wants there (resolved; unresolvable roles are recorded by
/// `resolver`) and the live membership held there. A grant whose `expires` has passed at `now` is
/// not wanted any more (and its roles are not resolved: they may be gone with the need).
pub(super) fn compare_spaces<'a, M>(
    resolver: &mut Resolver<'a>,
    managed: &ManagedSpaces<'a>,
    now: DateTime<Utc>,
    declared: &'a BTreeMap<String, DesiredGrant>,
    held: &[&'a M],
    space_id: impl Fn(&'a M) -> &'a str,
) -> Vec<(
    &'a String,
    &'a DesiredSpace,
    Option<Want<'a>>,
    Option<&'a M>,
)> {
    let have_in = first_per_space(held, space_id);
    touched_spaces(managed, declared, &have_in)
        .into_iter()
        .map(|(name, space)| {
            let want = declared
                .get(name)
                .filter(|g| expired(&g.expires, now).is_none())
                .and_then(|grant| {
                    resolver
                        .resolve(name, grant)
                        .map(|r| (r, &grant.access, grant.at))
                });
            (name, space, want, held_in(&have_in, &space.id))
        })
        .collect()
}
