"""The PATCH and apply stack: JSON patch, merge patch, strategic merge patch, server-side
apply and managedFields (what ``k8s.io/apimachinery/.../strategicpatch`` and
``structured-merge-diff`` do for kube-apiserver)."""
