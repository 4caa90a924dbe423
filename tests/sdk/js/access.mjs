// Every access call of the official JS SDK (contentful-management, plain client) against a
// running `contentful-access sandbox` (the built-in demo org). Run by tests/sdk/run.sh, which sets
// SANDBOX_HOST (127.0.0.1:PORT), SANDBOX_TOKEN (an admin's token) and SANDBOX_OWNER_TOKEN.
// Prints one line per call; exits 1 if any call failed.
// Version 11 exports a default object, version 12 only named exports: take either.
import * as sdk from 'contentful-management'
const contentful = sdk.createClient ? sdk : sdk.default

const host = process.env.SANDBOX_HOST
const org = '2AcmeDemoOrgSandbox001'
const space = '5nq2sd7t0mkg'
const make = (accessToken) =>
  contentful.createClient(
    { accessToken, host, insecure: true, retryOnError: false },
    { type: 'plain', defaults: { organizationId: org, spaceId: space } },
  )
const c = make(process.env.SANDBOX_TOKEN)
const owner = make(process.env.SANDBOX_OWNER_TOKEN)

let failed = 0
const ctx = {}
async function call(name, f, check = () => true) {
  try {
    const r = await f()
    const ok = check(r)
    if (ok !== true) throw new Error(`unexpected answer: ${ok || JSON.stringify(r).slice(0, 200)}`)
    console.log(`ok   js ${name}`)
    return r
  } catch (e) {
    failed++
    const detail = e?.message?.split('\n')[0] ?? String(e)
    console.log(`FAIL js ${name}: ${detail}`)
    return undefined
  }
}
const items = (r) => Array.isArray(r?.items) || 'no items'

// Organizations and users
await call('organization.getAll', () => c.organization.getAll(), (r) => r.items.some((o) => o.sys.id === org) || 'org missing')
await call('organization.get', () => c.organization.get({ organizationId: org }), (r) => r.sys.id === org)
const me = await call('user.getCurrent', () => c.user.getCurrent(), (r) => !!r.email)
const users = await call('user.getManyForOrganization', () => c.user.getManyForOrganization({ query: { limit: 100 } }), items)
await call('user.getForOrganization', () => c.user.getForOrganization({ userId: me.sys.id }), (r) => r.sys.id === me.sys.id)
await call('user.getManyForSpace', () => c.user.getManyForSpace({}), items)

// Organization memberships
const oms = await call('organizationMembership.getMany', () => c.organizationMembership.getMany({ query: { limit: 100, include: 'sys.user' } }), items)
const bobId = users.items.find((u) => u.email === 'bob@acme.example').sys.id
const bobOm = oms.items.find((m) => m.sys.user.sys.id === bobId)
await call('user.getForSpace', () => c.user.getForSpace({ userId: bobId }), (r) => r.sys.id === bobId)
await call('organizationMembership.get', () => c.organizationMembership.get({ organizationMembershipId: bobOm.sys.id }), (r) => r.role === 'member')
const bobUpdated = await call('organizationMembership.update', () => c.organizationMembership.update({ organizationMembershipId: bobOm.sys.id }, { ...bobOm, role: 'developer' }), (r) => r.role === 'developer')
await call('organizationMembership.getMany filters', () => c.organizationMembership.getMany({ query: { role: 'developer', 'sys.status': 'active', query: 'bob' } }), (r) => r.items.length === 1 || `${r.items.length} items`)

// Invitations
const inv = await call('organizationInvitation.create', () => c.organizationInvitation.create({}, { email: 'js.sdk@acme.example', firstName: 'Js', lastName: 'Sdk', role: 'member' }), (r) => r.sys.type === 'Invitation')
await call('organizationInvitation.get', () => c.organizationInvitation.get({ invitationId: inv.sys.id }), (r) => r.sys.status === 'open')
await call('owner-only: admin invites an owner', () => c.organizationInvitation.create({}, { email: 'js.owner@acme.example', role: 'owner' }).then(() => 'accepted', (e) => JSON.parse(e.message).status), (r) => r === 403 || `answered ${r}`)
await call('owner-only: owner invites an owner', () => owner.organizationInvitation.create({}, { email: 'js.owner@acme.example', role: 'owner' }), (r) => r.sys.type === 'Invitation')

// Teams and team memberships
const team = await call('team.create', () => c.team.create({}, { name: 'JS SDK team', description: 'made by the JS SDK' }), (r) => r.sys.type === 'Team')
await call('team.get', () => c.team.get({ teamId: team.sys.id }), (r) => r.name === 'JS SDK team')
await call('team.getMany', () => c.team.getMany({ query: { limit: 100 } }), items)
const teamUpdated = await call('team.update', () => c.team.update({ teamId: team.sys.id }, { ...team, description: 'changed' }), (r) => r.description === 'changed')
const tm = await call('teamMembership.create', () => c.teamMembership.create({ teamId: team.sys.id }, { admin: false, organizationMembershipId: bobOm.sys.id }), (r) => r.sys.type === 'TeamMembership')
await call('teamMembership.get', () => c.teamMembership.get({ teamId: team.sys.id, teamMembershipId: tm.sys.id }), (r) => r.sys.id === tm.sys.id)
await call('teamMembership.getManyForTeam', () => c.teamMembership.getManyForTeam({ teamId: team.sys.id }), (r) => r.items.length === 1)
await call('teamMembership.getManyForOrganization', () => c.teamMembership.getManyForOrganization({ query: { 'sys.team.sys.id': team.sys.id } }), (r) => r.items.length === 1)
await call('teamMembership.update', () => c.teamMembership.update({ teamId: team.sys.id, teamMembershipId: tm.sys.id }, { ...tm, admin: true }), (r) => r.admin === true)

// Roles
const roles = await call('role.getMany', () => c.role.getMany({ query: { limit: 100 } }), items)
const author = roles.items.find((r) => r.name === 'Author')
await call('role.get', () => c.role.get({ roleId: author.sys.id }), (r) => r.name === 'Author')
await call('role.getManyForOrganization', () => c.role.getManyForOrganization({ query: { limit: 100 } }), items)
const role = await call('role.create', () => c.role.create({}, { name: 'JS SDK role', description: '', permissions: { ContentModel: ['read'], Settings: [], ContentDelivery: [], Environments: [], EnvironmentAliases: [], Tags: [] }, policies: [] }), (r) => r.sys.type === 'Role')
const roleUpdated = await call('role.update', () => c.role.update({ roleId: role.sys.id }, { ...role, description: 'changed' }), (r) => r.description === 'changed')

// Team space memberships
const tsm = await call('teamSpaceMembership.create', () => c.teamSpaceMembership.create({ teamId: team.sys.id }, { admin: false, roles: [{ sys: { type: 'Link', linkType: 'Role', id: author.sys.id } }] }), (r) => r.sys.type === 'TeamSpaceMembership')
await call('teamSpaceMembership.get', () => c.teamSpaceMembership.get({ teamSpaceMembershipId: tsm.sys.id }), (r) => r.sys.id === tsm.sys.id)
await call('teamSpaceMembership.getMany', () => c.teamSpaceMembership.getMany({ query: { limit: 100 } }), items)
await call('teamSpaceMembership.getForOrganization', () => c.teamSpaceMembership.getForOrganization({ teamSpaceMembershipId: tsm.sys.id }), (r) => r.sys.id === tsm.sys.id)
await call('teamSpaceMembership.getManyForOrganization', () => c.teamSpaceMembership.getManyForOrganization({ query: { 'sys.team.sys.id': team.sys.id, 'roles.name': 'Author' } }), (r) => r.items.length === 1 || `${r.items.length} items`)
await call('teamSpaceMembership.update', () => c.teamSpaceMembership.update({ teamSpaceMembershipId: tsm.sys.id }, { ...tsm, roles: [{ sys: { type: 'Link', linkType: 'Role', id: role.sys.id } }] }), (r) => r.roles[0].sys.id === role.sys.id)
await call('team.getManyForSpace', () => c.team.getManyForSpace({}), (r) => r.items.some((t) => t.sys.id === team.sys.id) || 'team missing')

// Space memberships
const sm = await call('spaceMembership.create', () => c.spaceMembership.create({}, { admin: false, email: 'george.kim@acme.example', roles: [{ sys: { type: 'Link', linkType: 'Role', id: author.sys.id } }] }), (r) => r.sys.type === 'SpaceMembership')
await call('spaceMembership.get', () => c.spaceMembership.get({ spaceMembershipId: sm.sys.id }), (r) => r.sys.id === sm.sys.id)
await call('spaceMembership.getMany', () => c.spaceMembership.getMany({ query: { limit: 100 } }), items)
await call('spaceMembership.getForOrganization', () => c.spaceMembership.getForOrganization({ spaceMembershipId: sm.sys.id }), (r) => r.sys.id === sm.sys.id)
await call('spaceMembership.getManyForOrganization', () => c.spaceMembership.getManyForOrganization({ query: { 'sys.space.sys.id': space, admin: 'false', 'roles.name': 'Author' } }), items)
await call('spaceMembership.update', () => c.spaceMembership.update({ spaceMembershipId: sm.sys.id }, { ...sm, roles: [{ sys: { type: 'Link', linkType: 'Role', id: role.sys.id } }] }), (r) => r.roles[0].sys.id === role.sys.id)
await call('spaceMembership.createWithId', () => c.spaceMembership.createWithId({ spaceMembershipId: 'js-sdk-sm' }, { admin: true, email: 'hana.suzuki@acme.example', roles: [] }).then(() => 'accepted', (e) => JSON.parse(e.message).status), (r) => r === 'accepted' || r === 404 || r === 422 || `answered ${r}`)

// Space members (effective access)
const members = await call('spaceMember.getMany', () => c.spaceMember.getMany({ query: { limit: 100 } }), items)
await call('spaceMember.get', () => c.spaceMember.get({ spaceMemberId: members.items[0].sys.id }), (r) => r.sys.type === 'SpaceMember')

// Access tokens
const pat = await call('accessToken.createPersonalAccessToken', () => c.accessToken.createPersonalAccessToken({ name: 'JS SDK', scopes: ['content_management_manage'] }), (r) => typeof r.token === 'string' || 'no token')
await call('accessToken.get', () => c.accessToken.get({ tokenId: pat.sys.id }), (r) => r.sys.type === 'PersonalAccessToken')
await call('accessToken.getMany', () => c.accessToken.getMany({}), items)
await call('accessToken.getManyForOrganization', () => c.accessToken.getManyForOrganization({ query: { include: 'sys.user', order: '-sys.createdAt' } }), (r) => r.items.every((t) => t.sys.redactedValue.length === 4) || 'redactedValue not 4 characters')
await call('accessToken.revoke', () => c.accessToken.revoke({ tokenId: pat.sys.id }), (r) => r.revokedAt !== null)
const pat2 = await call('personalAccessToken.create', () => c.personalAccessToken.create({ name: 'JS SDK legacy', scopes: ['content_management_read'] }), (r) => typeof r.token === 'string')
await call('personalAccessToken.get', () => c.personalAccessToken.get({ tokenId: pat2.sys.id }), (r) => r.name === 'JS SDK legacy')
await call('personalAccessToken.getMany', () => c.personalAccessToken.getMany({}), items)
await call('personalAccessToken.revoke', () => c.personalAccessToken.revoke({ tokenId: pat2.sys.id }), (r) => r.revokedAt !== null)

// Deletes, in reverse
await call('spaceMembership.delete', () => c.spaceMembership.delete({ spaceMembershipId: sm.sys.id }))
await call('teamSpaceMembership.delete', () => c.teamSpaceMembership.delete({ teamSpaceMembershipId: tsm.sys.id }))
await call('role.delete', () => c.role.delete({ roleId: role.sys.id }))
await call('teamMembership.delete', () => c.teamMembership.delete({ teamId: team.sys.id, teamMembershipId: tm.sys.id }))
await call('team.delete', () => c.team.delete({ teamId: team.sys.id }))
const invitedOm = oms && inv ? inv.sys.organizationMembership.sys.id : undefined
await call('organizationMembership.delete (cancels the invitation)', () => c.organizationMembership.delete({ organizationMembershipId: invitedOm }))
await call('owner-only: admin promotes to owner', () => c.organizationMembership.update({ organizationMembershipId: bobOm.sys.id }, { ...bobUpdated, role: 'owner' }).then(() => 'accepted', (e) => JSON.parse(e.message).status), (r) => r === 403 || `answered ${r}`)

console.log(failed ? `js: ${failed} call(s) failed` : 'js: every access call worked')
process.exit(failed ? 1 : 0)
