"""Rendered series into what people look at: the review sheet, editor timelines, progress views.
"""
