"""The organiser's review loop (issue 15): 待审核, 已通过, 已退回 and 豁免, recorded append-only in the store."""
