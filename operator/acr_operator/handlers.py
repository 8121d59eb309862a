"""kopf handlers for every kind: thin, they only drive the reconciler.

Each object gets one worker, a kopf daemon, that runs `engine.reconcile`
step after step and sleeps in between for as long as the step asked (the
next poll of an operation, a retry after Retry-After, the resync). One
worker per object means one writer per object: a resync can never race a
poll into a second PUT. A watch event (`on.event`) wakes the worker early
when the object's generation or reconcile policy changed, or when an object
it waits for (its parent, a reference) changed. A watch on Secrets wakes
every object whose spec names the changed Secret (a webhook's serviceUri
input, a token's password output), so a new Secret value reaches Azure
without any change to the custom resource.

Deletion runs in `on.delete`, which kopf calls once the worker is stopped;
kopf holds the finalizer `acr-operator.dev/finalizer` until the handler
returns, which it does when ARM confirms the resource is gone. Everything
that must survive a restart (the operation in flight, the refused
generation) is in status, written at once by the engine; after a restart
kopf starts the workers again and they poll the saved operation.

Status is written with a JSON merge patch on the status subresource, only
when it changed, through the Kubernetes client in a worker thread. kopf's
own progress and diff-base records are annotations under
`acr-operator.dev/`, so kopf never writes into status.

Kubernetes API access (the RBAC the operator needs, and all it needs):

- group acr-operator.dev, every plural of kinds.json (registries,
  replications, webhooks, tokens, scopemaps, cacherules, credentialsets,
  connectedregistries, exportpipelines, importpipelines, pipelineruns,
  privateendpointconnections, archives, archiveversions, imageimports):
  `list`, `watch` (kopf's watch streams and indexes), `patch` (kopf's
  finalizer and progress annotations); their `/status` subresource: `patch`.
- core `events`: `create` (kopf posts Events with POST).
- core `secrets`, in the watched namespaces: `get` (secret inputs such as a
  webhook's serviceUri; the credential Secrets the operator owns), `create`
  and `patch` (those credential Secrets, see `reconciler.kubesecrets`),
  `list` and `watch` (the Secret watch that wakes the objects naming a
  Secret).
- no namespaces, CRDs or kopf peering objects: the operator runs
  standalone with runtime scanning off, so it neither lists namespaces nor
  watches CRDs; the CRDs must exist when it starts.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import kopf

from acr_operator import API_GROUP, API_VERSION
from acr_operator.arm.client import ArmClient
from acr_operator.config import Settings
from acr_operator.reconciler import engine, kubesecrets, secretwatch
from acr_operator.reconciler.context import (
    Context,
    FinalizerMissing,
    ObjectGone,
    OwnedSecret,
    SecretConflict,
)
from acr_operator.reconciler.descriptors import descriptors

FINALIZER = "acr-operator.dev/finalizer"
ANNOTATIONS_PREFIX = "acr-operator.dev"
REPORTING_COMPONENT = "acr-operator"

# A daemon step is at most a few ARM requests of READ_TIMEOUT each; after this
# long past the stop signal, kopf cancels it.
DAEMON_CANCELLATION_TIMEOUT = 120.0
# The deletion handler waits in place for short delays, so that a delete that
# ARM finishes in seconds is released in seconds; longer waits go back to kopf.
DELETE_INLINE_WAIT = 30.0
# While the finalizer is not on the object yet, nothing is written to Azure.
FINALIZER_WAIT = 2.0

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class ObjectState:
    """The in-memory record of one object between steps: lock, wake-up event, last status."""

    kind: str
    namespace: str
    name: str
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    wake: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    memory: dict = dataclasses.field(default_factory=dict)
    status: dict | None = None  # the status last written, fresher than the watch
    waiting_on: tuple[str, str] | None = None
    kicked: bool = False
    # Names of the Secrets (same namespace) whose change wakes this object.
    secrets: frozenset[str] = frozenset()


_states: dict[str, ObjectState] = {}
# When each object last changed, by (namespace, kind, name), in loop time: a worker
# that waits for an object which changed while its step ran starts again at once.
_changed_at: dict[tuple[str, str, str], float] = {}


def register(registry: kopf.OperatorRegistry) -> kopf.OperatorRegistry:
    """Register the log-in, start-up, cleanup and per-kind handlers into `registry`."""
    kopf.on.login(registry=registry)(login)
    kopf.on.startup(registry=registry)(configure)
    kopf.on.cleanup(registry=registry)(cleanup)
    for kind, descriptor in descriptors().items():
        resource = (API_GROUP, API_VERSION, descriptor.plural)
        key = _index_name(kind)
        kopf.index(*resource, id=key, registry=registry)(index_object)
        kopf.index(*resource, id=_claims_name(kind), registry=registry)(index_claim)
        kopf.on.event(*resource, id=f"{kind}.wake", registry=registry)(wake_on_event)
        kopf.daemon(
            *resource, id=f"{kind}.reconcile", registry=registry,
            cancellation_timeout=DAEMON_CANCELLATION_TIMEOUT,
        )(reconcile_daemon)
        kopf.on.delete(*resource, id=f"{kind}.delete", registry=registry)(delete_handler)
    # Secrets are watched, but only those that some object names reach the handler.
    kopf.on.event(group="", version="v1", plural="secrets", id="Secret.wake",
                  when=secret_in_use, registry=registry)(wake_on_secret)
    return registry


async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """kopf start-up: storage under our prefix, standalone, Events, the shared clients."""
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
        prefix=ANNOTATIONS_PREFIX,
    )
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=ANNOTATIONS_PREFIX, key="last-handled-configuration",
    )
    settings.peering.standalone = True
    settings.scanning.disabled = True
    # Only the Events the engine posts on purpose (begin, success, failure);
    # kopf's per-handler log lines stay in the log.
    settings.posting.loggers = False
    settings.posting.reporting_component = REPORTING_COMPONENT
    logging.getLogger("kopf.objects").addFilter(_quiet_wake)
    if "settings" not in memo:
        memo.settings = Settings.from_env()
    if "arm" not in memo:
        memo.arm = await ArmClient.open(memo.settings)
    if "kube" not in memo:
        memo.kube = await asyncio.to_thread(KubeApi.from_environment)


def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """The in-cluster service account if present, else $KUBECONFIG; as KubeApi does.

    Needed because a registry of our own does not carry kopf's default log-in handlers.
    """
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    arm = memo.get("arm")
    if arm is not None:
        await arm.close()


def index_object(namespace: str, name: str, status: Mapping, **_: Any) -> dict:
    """Index entry: what references to this object need (its ARM id and conditions)."""
    return {(namespace, name): {
        "status": {"id": status.get("id"), "conditions": copy.deepcopy(status.get("conditions"))},
    }}


def index_claim(namespace: str, name: str, uid: str, status: Mapping, **_: Any) -> dict:
    """Return the claims index entry: the lower-cased ARM id in status.id and the object with it."""
    arm_id = status.get("id")
    if not isinstance(arm_id, str) or not arm_id:
        return {}  # not None, because kopf keeps an object's old entries when it gets None
    return {arm_id.lower(): (namespace, name, uid)}


async def wake_on_event(event: Mapping, body: kopf.Body, **_: Any) -> None:
    """Wake this object's worker, and the workers waiting for this object."""
    meta = body.get("metadata") or {}
    uid, kind = meta.get("uid"), body.get("kind")
    key = (meta.get("namespace", ""), kind, meta.get("name"))
    if event.get("type") == "DELETED":
        _states.pop(uid, None)
        _changed_at.pop(key, None)
        return
    _changed_at[key] = asyncio.get_running_loop().time()
    if uid in _states:
        _states[uid].wake.set()
    for state in _states.values():
        if (state.namespace, *(state.waiting_on or ())) == key:
            state.kicked = True
            state.wake.set()


def secret_in_use(namespace: str, name: str, **_: Any) -> bool:
    """Tell whether an object of this operator names the Secret `namespace/name`."""
    return any(
        state.namespace == namespace and name in state.secrets for state in _states.values()
    )


async def wake_on_secret(event: Mapping, namespace: str, name: str, **_: Any) -> None:
    """Wake the workers of the objects that read or write this Secret.

    Only the name is used: the Secret's contents are read again by the reconcile itself.
    """
    _changed_at[(namespace, "Secret", name)] = asyncio.get_running_loop().time()
    for state in _states.values():
        if state.namespace == namespace and name in state.secrets:
            state.kicked = True
            state.wake.set()


async def reconcile_daemon(
        body: kopf.Body,
        memo: kopf.Memo,
        logger: logging.Logger,
        stopped: kopf.DaemonStopped,
        **kwargs: Any,
) -> None:
    """Run the object's worker: one reconcile step, then sleep until the next is due."""
    state = _state_for(body)
    ctx = _context(body, state, memo, logger, kwargs)
    failures = 0
    while not stopped:
        if FINALIZER not in (body.get("metadata", {}).get("finalizers") or ()):
            await _sleep(state, stopped, FINALIZER_WAIT, body)  # kopf adds it first; wait for it
            continue
        trigger, started = _trigger(body), asyncio.get_running_loop().time()
        snapshot = _snapshot(body, state)
        state.secrets = secretwatch.secret_names(snapshot)
        try:
            async with state.lock:
                outcome = await engine.reconcile(snapshot, ctx)
        except ObjectGone as gone:
            logger.info("%s; the worker stops without writing to Azure.", gone)
            return
        except FinalizerMissing:
            await _sleep(state, stopped, FINALIZER_WAIT, body)
            continue
        except Exception as exc:  # a bug or the Kubernetes API failing: log, back off, go on
            failures += 1
            delay = min(300.0, 5.0 * 2 ** min(failures, 6))
            if _namespace_terminating(exc):
                logger.info("Kubernetes rejected a write because namespace %s is being deleted; "
                            "trying again in %.0f seconds.", state.namespace, delay)
            else:
                logger.exception("The reconcile step failed; trying again in %.0f seconds.", delay)
            await _sleep(state, stopped, delay, body, trigger=trigger)
            continue
        failures = 0
        state.waiting_on = outcome.waiting_on
        if outcome.waiting_on and _changed_at.get((state.namespace, *outcome.waiting_on), 0) > started:
            continue  # what it waits for changed during the step: look again now
        await _sleep(state, stopped, outcome.delay, body, trigger=trigger)


async def delete_handler(
        body: kopf.Body,
        memo: kopf.Memo,
        logger: logging.Logger,
        **kwargs: Any,
) -> None:
    """Delete the Azure resource; return (and so release the finalizer) once it is gone."""
    state = _state_for(body)
    ctx = _context(body, state, memo, logger, kwargs)
    waited = 0.0
    while True:
        async with state.lock:
            outcome = await engine.delete(_snapshot(body, state), ctx)
        if outcome.done:
            return
        if waited + outcome.delay > DELETE_INLINE_WAIT:
            # Back to kopf, which calls again after the delay with a fresh body
            # (so a reconcile-policy annotation added meanwhile is seen).
            message = outcome.verdict.message if outcome.verdict else "ARM is still deleting"
            raise kopf.TemporaryError(message, delay=outcome.delay)
        await asyncio.sleep(outcome.delay)
        waited += outcome.delay


class KubeApi:
    """The few Kubernetes calls the engine's effects and resolver need.

    The official client is synchronous, so every call runs in a worker
    thread; the event loop never waits on the network.
    """

    def __init__(self, api_client: Any) -> None:
        from kubernetes import client

        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)

    @classmethod
    def from_environment(cls) -> KubeApi:
        """In-cluster service account if present, else $KUBECONFIG (as kopf itself does)."""
        from kubernetes import client, config

        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()
        return cls(client.ApiClient())

    async def patch_status(self, *, namespace: str, plural: str, name: str, patch: dict) -> dict:
        return await asyncio.to_thread(
            self.custom.patch_namespaced_custom_object_status,
            API_GROUP, API_VERSION, namespace, plural, name, {"status": patch},
            _content_type="application/merge-patch+json",
        )

    async def read_secret(self, *, namespace: str, name: str) -> dict[str, str] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            secret = await asyncio.to_thread(self.core.read_namespaced_secret, name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        data = {k: base64.b64decode(v).decode("utf-8") for k, v in (secret.data or {}).items()}
        data.update(secret.string_data or {})
        return data

    async def read_secret_object(self, *, namespace: str, name: str) -> dict | None:
        """Read a Secret as the API returns it (camelCase keys, `data` in base64); None if absent."""
        from kubernetes.client.exceptions import ApiException

        try:
            secret = await asyncio.to_thread(self.core.read_namespaced_secret, name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return self.core.api_client.sanitize_for_serialization(secret)

    async def create_secret(self, *, namespace: str, body: dict) -> None:
        await asyncio.to_thread(self.core.create_namespaced_secret, namespace, body)

    async def patch_secret(self, *, namespace: str, name: str, patch: dict) -> None:
        await asyncio.to_thread(
            self.core.patch_namespaced_secret, name, namespace, patch,
            _content_type="application/merge-patch+json",
        )


class KubeEffects:
    """The engine's effects for one object: status merge patches, Events, owned Secrets."""

    def __init__(self, body: kopf.Body, state: ObjectState, kube: KubeApi, plural: str) -> None:
        self.body = body
        self.state = state
        self.kube = kube
        self.plural = plural

    async def patch_status(self, status: dict) -> None:
        known = self.state.status if self.state.status is not None else self.body.get("status")
        patch = merge_patch(known or {}, status)
        if patch:
            from kubernetes.client.exceptions import ApiException

            try:
                await self.kube.patch_status(
                    namespace=self.state.namespace, plural=self.plural,
                    name=self.state.name, patch=patch,
                )
            except ApiException as exc:
                if exc.status != 404:  # a deleted object has no status to write
                    raise
        self.state.status = copy.deepcopy(status)

    def post_event(self, type: str, reason: str, message: str) -> None:
        kopf.event(self.body, type=type, reason=reason, message=message)

    async def ensure_writable(self) -> None:
        from kubernetes.client.exceptions import ApiException

        # An empty merge patch of the status changes nothing and returns the stored object,
        # with the verbs the operator already has.
        try:
            stored = await self.kube.patch_status(
                namespace=self.state.namespace, plural=self.plural, name=self.state.name, patch={},
            )
        except ApiException as exc:
            if exc.status == 404:
                raise ObjectGone(f"{self.state.kind} {self.state.name} no longer exists") from None
            raise
        meta = (stored or {}).get("metadata") or {}
        if meta.get("deletionTimestamp"):
            raise ObjectGone(f"{self.state.kind} {self.state.name} is being deleted")
        if FINALIZER not in (meta.get("finalizers") or ()):
            raise FinalizerMissing(f"{self.state.kind} {self.state.name} has no finalizer yet")

    async def read_owned_secret(self, name: str) -> OwnedSecret | None:
        secret = await self.kube.read_secret_object(namespace=self.state.namespace, name=name)
        if secret is None:
            return None
        return kubesecrets.owned(secret, self.owner())

    async def apply_secret(
            self,
            name: str,
            *,
            string_data: Mapping[str, str],
            type: str = kubesecrets.OPAQUE,
            labels: Mapping[str, str] | None = None,
            annotations: Mapping[str, str] | None = None,
    ) -> bool:
        from kubernetes.client.exceptions import ApiException

        namespace = self.state.namespace
        secret = await self.kube.read_secret_object(namespace=namespace, name=name)
        if secret is None:
            body = kubesecrets.manifest(
                name, namespace, owner=self.owner(), string_data=string_data, type=type,
                labels=labels, annotations=annotations,
            )
            try:
                await self.kube.create_secret(namespace=namespace, body=body)
            except ApiException as exc:
                if exc.status != 409:
                    raise
                # Created by someone else since the read; the next reconcile reads it.
                raise SecretConflict("SecretNotOwned", (
                    f"Secret {name} in namespace {namespace} was created by someone else "
                    "while the operator was about to create it"
                )) from None
            logger.info("Created Secret %s/%s for %s %s.", namespace, name,
                        self.state.kind, self.state.name)
            return True
        kubesecrets.require_owner(secret, self.owner())
        patch = kubesecrets.patch(
            secret, string_data=string_data, type=type, labels=labels, annotations=annotations,
        )
        if not patch:
            return False
        await self.kube.patch_secret(namespace=namespace, name=name, patch=patch)
        # The keys only; a patch of `data` carries values, which are never logged.
        logger.info("Updated Secret %s/%s for %s %s (entries: %s).", namespace, name,
                    self.state.kind, self.state.name, ", ".join(sorted(patch.get("data") or {})))
        return True

    def owner(self) -> dict:
        """Return the kind, name and uid of the custom resource, which an ownerReference needs."""
        meta = self.body.get("metadata") or {}
        return {"kind": self.body.get("kind") or self.state.kind,
                "metadata": {"name": meta.get("name") or self.state.name, "uid": meta.get("uid")}}


class IndexResolver:
    """Looks up other custom resources in kopf's indexes and Secrets through the API."""

    def __init__(self, indexes: Mapping[str, Any], kube: KubeApi) -> None:
        self.indexes = indexes
        self.kube = kube

    async def get_object(self, kind: str, namespace: str, name: str) -> dict | None:
        index = self.indexes.get(_index_name(kind))
        if index is None:
            return None
        store = index.get((namespace, name))
        return next(iter(store), None) if store is not None else None

    async def get_secret(self, namespace: str, name: str) -> Mapping[str, str] | None:
        return await self.kube.read_secret(namespace=namespace, name=name)

    async def claimants(self, kind: str, arm_id: str) -> list[tuple[str, str, str]]:
        index = self.indexes.get(_claims_name(kind))
        if index is None:
            return []
        return list(index.get(arm_id.lower(), ()))


def merge_patch(old: Mapping, new: Mapping) -> dict:
    """The JSON merge patch (RFC 7386) that turns `old` into `new`; {} when equal."""
    patch: dict = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            inner = merge_patch(before, value)
            if inner:
                patch[key] = inner
        elif key not in old or before != value:
            patch[key] = copy.deepcopy(value)
    return patch


def _context(
        body: kopf.Body,
        state: ObjectState,
        memo: kopf.Memo,
        logger: logging.Logger,
        kwargs: Mapping[str, Any],
) -> Context:
    plural = descriptors()[state.kind].plural
    indexes = {k: v for k, v in kwargs.items() if k.endswith("_index")}
    return Context(
        client=memo.arm,
        settings=memo.settings,
        resolver=IndexResolver(indexes, memo.kube),
        effects=KubeEffects(body, state, memo.kube, plural),
        logger=logger,
        memory=state.memory,
    )


def _state_for(body: kopf.Body) -> ObjectState:
    meta = body.get("metadata") or {}
    uid = meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"
    state = _states.get(uid)
    if state is None:
        state = _states[uid] = ObjectState(
            kind=body["kind"], namespace=meta.get("namespace", ""), name=meta["name"],
        )
    return state


def _snapshot(body: kopf.Body, state: ObjectState) -> dict:
    """A plain-dict copy of the object, with the freshest status we know of."""
    obj = copy.deepcopy({k: body.get(k) for k in ("apiVersion", "kind", "metadata", "spec")})
    status = state.status if state.status is not None else body.get("status")
    obj["status"] = copy.deepcopy(dict(status or {}))
    return obj


def _trigger(body: kopf.Body) -> tuple:
    # What a reconcile acts on besides Azure: a change of these starts the next step at once.
    meta = body.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    finalized = FINALIZER in (meta.get("finalizers") or ())
    return meta.get("generation"), annotations.get(engine.POLICY_ANNOTATION), finalized


async def _sleep(
        state: ObjectState,
        stopped: kopf.DaemonStopped,
        delay: float,
        body: kopf.Body,
        *,
        trigger: tuple | None = None,
) -> None:
    """Sleep `delay` seconds, or less if stopped, kicked, or the object's trigger changed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(0.0, delay)
    seen = trigger if trigger is not None else _trigger(body)
    while not stopped:
        remaining = deadline - loop.time()
        if remaining <= 0 or state.kicked or _trigger(body) != seen:
            break
        waker = asyncio.ensure_future(state.wake.wait())
        stopper = asyncio.ensure_future(stopped.wait())
        try:
            await asyncio.wait({waker, stopper}, timeout=remaining, return_when="FIRST_COMPLETED")
        finally:
            waker.cancel()
            stopper.cancel()
        # Cleared only after the checks above saw the body the wake-up was for:
        # kopf updates the live body before it calls the event handler.
        state.wake.clear()
    state.kicked = False


def _namespace_terminating(exc: Exception) -> bool:
    """Tell whether `exc` is the API server's 403 for a write into a namespace being deleted.

    Such a write (a credential Secret, an Event) fails while the namespace's
    objects, this one included, are on their way out; it is no RBAC problem.
    """
    from kubernetes.client.exceptions import ApiException

    return (isinstance(exc, ApiException) and exc.status == 403
            and "NamespaceTerminating" in str(exc.body or ""))


def _index_name(kind: str) -> str:
    return f"{kind.lower()}_index"


def _claims_name(kind: str) -> str:
    return f"{kind.lower()}_claims_index"


def _quiet_wake(record: logging.LogRecord) -> bool:
    # kopf logs every successful handler at INFO; the wake-up handler runs on every
    # watch event of every object, so its success lines would drown the log.
    return not (isinstance(record.msg, str) and record.msg.endswith(".wake' succeeded."))
