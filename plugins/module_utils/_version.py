# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast. Kept equal to galaxy.yml's version by a unit test.

from __future__ import annotations

COLLECTION_VERSION = "0.1.0"
