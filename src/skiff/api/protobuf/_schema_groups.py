"""Schema tables for the smaller groups: autoscaling v1/v2, coordination, discovery, networking,
policy, scheduling, storage, apiregistration (kube-aggregator's generated.proto), rbac and
authorization.

Transcribed from the matching k8s.io/api/<group>/<version>/generated.proto files; the text format
is described in :mod:`skiff.api.protobuf._schema`.
"""

from __future__ import annotations

__all__ = ["AUTOSCALING_V1", "AUTOSCALING_V2", "GROUPS"]

AUTOSCALING_V1 = (
    "autoscaling/v1",
    """
CrossVersionObjectReference: kind=1! name=2! apiVersion=3
HorizontalPodAutoscaler: metadata=1:ObjectMeta spec=2:HorizontalPodAutoscalerSpec status=3:HorizontalPodAutoscalerStatus
HorizontalPodAutoscalerCondition: type=1! status=2! lastTransitionTime=3:Time reason=4 message=5
HorizontalPodAutoscalerSpec: scaleTargetRef=1:CrossVersionObjectReference minReplicas=2:i32* maxReplicas=3:i32!
  targetCPUUtilizationPercentage=4:i32*
HorizontalPodAutoscalerStatus: observedGeneration=1:i64* lastScaleTime=2:Time currentReplicas=3:i32!
  desiredReplicas=4:i32! currentCPUUtilizationPercentage=5:i32*
Scale: metadata=1:ObjectMeta spec=2:ScaleSpec status=3:ScaleStatus
ScaleSpec: replicas=1:i32
ScaleStatus: replicas=1:i32! selector=2
""",
)


AUTOSCALING_V2 = (
    "autoscaling/v2",
    """
ContainerResourceMetricSource: name=1! target=2:MetricTarget container=3!
ContainerResourceMetricStatus: name=1! current=2:MetricValueStatus container=3!
CrossVersionObjectReference: kind=1! name=2! apiVersion=3
ExternalMetricSource: metric=1:MetricIdentifier target=2:MetricTarget
ExternalMetricStatus: metric=1:MetricIdentifier current=2:MetricValueStatus
HPAScalingPolicy: type=1! value=2:i32! periodSeconds=3:i32!
HPAScalingRules: stabilizationWindowSeconds=3:i32* selectPolicy=1:str* policies=2:[]HPAScalingPolicy tolerance=4:Quantity
HorizontalPodAutoscaler: metadata=1:ObjectMeta spec=2:HorizontalPodAutoscalerSpec status=3:HorizontalPodAutoscalerStatus
HorizontalPodAutoscalerBehavior: scaleUp=1:HPAScalingRules scaleDown=2:HPAScalingRules
HorizontalPodAutoscalerCondition: type=1! status=2! lastTransitionTime=3:Time reason=4 message=5
HorizontalPodAutoscalerSpec: scaleTargetRef=1:CrossVersionObjectReference minReplicas=2:i32* maxReplicas=3:i32!
  metrics=4:[]MetricSpec behavior=5:HorizontalPodAutoscalerBehavior
HorizontalPodAutoscalerStatus: observedGeneration=1:i64* lastScaleTime=2:Time currentReplicas=3:i32
  desiredReplicas=4:i32! currentMetrics=5:[]MetricStatus conditions=6:[]HorizontalPodAutoscalerCondition
MetricIdentifier: name=1! selector=2:LabelSelector
MetricSpec: type=1! object=2:ObjectMetricSource pods=3:PodsMetricSource resource=4:ResourceMetricSource
  containerResource=7:ContainerResourceMetricSource external=5:ExternalMetricSource
MetricStatus: type=1! object=2:ObjectMetricStatus pods=3:PodsMetricStatus resource=4:ResourceMetricStatus
  containerResource=7:ContainerResourceMetricStatus external=5:ExternalMetricStatus
MetricTarget: type=1! value=2:Quantity averageValue=3:Quantity averageUtilization=4:i32*
MetricValueStatus: value=1:Quantity averageValue=2:Quantity averageUtilization=3:i32*
ObjectMetricSource: describedObject=1:CrossVersionObjectReference target=2:MetricTarget metric=3:MetricIdentifier
ObjectMetricStatus: metric=1:MetricIdentifier current=2:MetricValueStatus describedObject=3:CrossVersionObjectReference
PodsMetricSource: metric=1:MetricIdentifier target=2:MetricTarget
PodsMetricStatus: metric=1:MetricIdentifier current=2:MetricValueStatus
ResourceMetricSource: name=1! target=2:MetricTarget
ResourceMetricStatus: name=1! current=2:MetricValueStatus
""",
)


GROUPS = (
    "coordination.k8s.io/v1",
    """
@coordination.k8s.io/v1
Lease: metadata=1:ObjectMeta spec=2:LeaseSpec
LeaseSpec: holderIdentity=1:str* leaseDurationSeconds=2:i32* acquireTime=3:MicroTime renewTime=4:MicroTime
  leaseTransitions=5:i32* strategy=6:str* preferredHolder=7:str*
@discovery.k8s.io/v1
Endpoint: addresses=1:[]str! conditions=2:EndpointConditions hostname=3:str* targetRef=4:ObjectReference
  deprecatedTopology=5:{} nodeName=6:str* zone=7:str* hints=8:EndpointHints
EndpointConditions: ready=1:bool* serving=2:bool* terminating=3:bool*
EndpointHints: forZones=1:[]ForZone forNodes=2:[]ForNode
EndpointPort: name=1:str* protocol=2:str* port=3:i32* appProtocol=4:str*
EndpointSlice: metadata=1:ObjectMeta addressType=4! endpoints=2:[]Endpoint! ports=3:[]EndpointPort
ForNode: name=1!
ForZone: name=1!
@networking.k8s.io/v1
HTTPIngressPath: path=1 pathType=3:str* backend=2:IngressBackend
HTTPIngressRuleValue: paths=1:[]HTTPIngressPath!
IPBlock: cidr=1! except=2:[]str
Ingress: metadata=1:ObjectMeta spec=2:IngressSpec status=3:IngressStatus
IngressBackend: service=4:IngressServiceBackend resource=3:TypedLocalObjectReference
IngressLoadBalancerIngress: ip=1 hostname=2 ports=4:[]IngressPortStatus
IngressLoadBalancerStatus: ingress=1:[]IngressLoadBalancerIngress
IngressPortStatus: port=1:i32! protocol=2! error=3:str*
IngressRule: host=1 ingressRuleValue=2:^IngressRuleValue
IngressRuleValue: http=1:HTTPIngressRuleValue
IngressServiceBackend: name=1! port=2:ServiceBackendPort
IngressSpec: ingressClassName=4:str* defaultBackend=1:IngressBackend tls=2:[]IngressTLS rules=3:[]IngressRule
IngressStatus: loadBalancer=1:IngressLoadBalancerStatus
IngressTLS: hosts=1:[]str secretName=2
NetworkPolicy: metadata=1:ObjectMeta spec=2:NetworkPolicySpec
NetworkPolicyEgressRule: ports=1:[]NetworkPolicyPort to=2:[]NetworkPolicyPeer
NetworkPolicyIngressRule: ports=1:[]NetworkPolicyPort from=2:[]NetworkPolicyPeer
NetworkPolicyPeer: podSelector=1:LabelSelector namespaceSelector=2:LabelSelector ipBlock=3:IPBlock
NetworkPolicyPort: protocol=1:str* port=2:IntOrString endPort=3:i32*
NetworkPolicySpec: podSelector=1:LabelSelector ingress=2:[]NetworkPolicyIngressRule
  egress=3:[]NetworkPolicyEgressRule policyTypes=4:[]str
ServiceBackendPort: name=1 number=2:i32
@policy/v1
Eviction: metadata=1:ObjectMeta deleteOptions=2:DeleteOptions
PodDisruptionBudget: metadata=1:ObjectMeta spec=2:PodDisruptionBudgetSpec status=3:PodDisruptionBudgetStatus
PodDisruptionBudgetSpec: minAvailable=1:IntOrString selector=2:LabelSelector maxUnavailable=3:IntOrString
  unhealthyPodEvictionPolicy=4:str*
PodDisruptionBudgetStatus: observedGeneration=1:i64 disruptedPods=2:{Time} disruptionsAllowed=3:i32!
  currentHealthy=4:i32! desiredHealthy=5:i32! expectedPods=6:i32! conditions=7:[]Condition
@scheduling.k8s.io/v1
PriorityClass: metadata=1:ObjectMeta value=2:i32! globalDefault=3:bool description=4 preemptionPolicy=5:str*
@storage.k8s.io/v1
StorageClass: metadata=1:ObjectMeta provisioner=2! parameters=3:{} reclaimPolicy=4:str* mountOptions=5:[]str
  allowVolumeExpansion=6:bool* volumeBindingMode=7:str* allowedTopologies=8:[]TopologySelectorTerm
@apiregistration.k8s.io/v1
APIService: metadata=1:ObjectMeta spec=2:APIServiceSpec status=3:APIServiceStatus
APIServiceSpec: service=1:ServiceReference group=2 version=3 insecureSkipTLSVerify=4:bool caBundle=5:bytes
  groupPriorityMinimum=7:i32! versionPriority=8:i32!
ServiceReference: namespace=1 name=2 port=3:i32*
APIServiceStatus: conditions=1:[]APIServiceCondition
APIServiceCondition: type=1! status=2! lastTransitionTime=3:Time reason=4 message=5
@rbac.authorization.k8s.io/v1
AggregationRule: clusterRoleSelectors=1:[]LabelSelector
ClusterRole: metadata=1:ObjectMeta rules=2:[]PolicyRule! aggregationRule=3:AggregationRule
ClusterRoleBinding: metadata=1:ObjectMeta subjects=2:[]Subject roleRef=3:RoleRef
PolicyRule: verbs=1:[]str! apiGroups=2:[]str resources=3:[]str resourceNames=4:[]str nonResourceURLs=5:[]str
Role: metadata=1:ObjectMeta rules=2:[]PolicyRule!
RoleBinding: metadata=1:ObjectMeta subjects=2:[]Subject roleRef=3:RoleRef
RoleRef: apiGroup=1! kind=2! name=3!
Subject: kind=1! apiGroup=2 name=3! namespace=4
@authorization.k8s.io/v1
FieldSelectorAttributes: rawSelector=1 requirements=2:[]FieldSelectorRequirement
LabelSelectorAttributes: rawSelector=1 requirements=2:[]LabelSelectorRequirement
LocalSubjectAccessReview: metadata=1:ObjectMeta spec=2:SubjectAccessReviewSpec status=3:SubjectAccessReviewStatus
NonResourceAttributes: path=1 verb=2
NonResourceRule: verbs=1:[]str! nonResourceURLs=2:[]str
ResourceAttributes: namespace=1 verb=2 group=3 version=4 resource=5 subresource=6 name=7
  fieldSelector=8:FieldSelectorAttributes labelSelector=9:LabelSelectorAttributes
ResourceRule: verbs=1:[]str! apiGroups=2:[]str resources=3:[]str resourceNames=4:[]str
SelfSubjectAccessReview: metadata=1:ObjectMeta spec=2:SelfSubjectAccessReviewSpec status=3:SubjectAccessReviewStatus
SelfSubjectAccessReviewSpec: resourceAttributes=1:ResourceAttributes nonResourceAttributes=2:NonResourceAttributes
SelfSubjectRulesReview: metadata=1:ObjectMeta spec=2:SelfSubjectRulesReviewSpec status=3:SubjectRulesReviewStatus
SelfSubjectRulesReviewSpec: namespace=1
SubjectAccessReview: metadata=1:ObjectMeta spec=2:SubjectAccessReviewSpec status=3:SubjectAccessReviewStatus
SubjectAccessReviewSpec: resourceAttributes=1:ResourceAttributes nonResourceAttributes=2:NonResourceAttributes
  user=3 groups=4:[]str extra=5:{StringList} uid=6
SubjectAccessReviewStatus: allowed=1:bool! denied=4:bool reason=2 evaluationError=3
SubjectRulesReviewStatus: resourceRules=1:[]ResourceRule! nonResourceRules=2:[]NonResourceRule!
  incomplete=3:bool! evaluationError=4
@authentication.k8s.io/v1
SelfSubjectReview: metadata=1:ObjectMeta status=2:SelfSubjectReviewStatus
SelfSubjectReviewStatus: userInfo=1:UserInfo
UserInfo: username=1 uid=2 groups=3:[]str extra=4:{StringList}
""",
)
