"""Option combinations of the built-in families worth checking separately (trainable or fixed
centroids and bandwidths, per-feature centroids, position mixing, no bias): the layer checks
(test_family_check.py) and the cross-backend check (test_cross_backend.py) add them to the
configurations they draw from each family's search space."""

#: family → layer keyword arguments; a family not listed (a plugin) gets its defaults and draws only.
OPTIONS = {
    "conv": [{"use_bias": False}],
    "locally_connected": [{"use_bias": False}],
    "sisws": [
        {"n_centroids": 1}, {"n_centroids": 3, "per_feature": True}, {"n_centroids": (1, 3)},
        {"n_centroids": (2, 2), "per_feature": True}, {"n_centroids": 2, "sigma_trainable": True},
        {"n_centroids": 4, "use_bias": False, "local_normalization": False},
        {"n_centroids": (2, 1), "centroids_trainable": True}, {"n_centroids": 3, "per_feature": True, "seed": None},
    ],
    "sisws_trainable": [
        {"n_centroids": 3, "per_feature": True}, {"n_centroids": 2, "sigma_trainable": False},
        {"n_centroids": (1, 2), "centroids_trainable": False}, {"n_centroids": 5, "per_feature": True, "use_bias": False},
        {"n_centroids": (2, 2), "per_feature": True},
    ],
    "lrlc": [{"rank": 1}, {"rank": 3, "mixing": "position"}, {"rank": 2, "use_bias": False},
             {"rank": 2, "mixing": "position", "use_bias": False}],
    "coordconv": [{"use_bias": False}],
}
