# Registered datasets read into R data frames.

test_that("a registered tabular dataset loads into a data frame with R's column types", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "data/part-1.csv", c("id,name,score,passed,seen", "1,ann,1.5,true,2026-01-02 03:04:05",
                                               "2,,2.25,false,"))
  write_lines_to(fx$src, "data/part-2.csv", c("id,name,score,passed,seen", "3,cy,,true,2026-01-03 00:00:00"))
  tabular <- runyard_python()$Dataset$Tabular$from_delimited_files(file.path(fx$src, "data", "*.csv"))
  tabular$register(fx$ws, "people")
  expect_identical(get_dataset_by_name(fx$ws, "people")$version, 1L)

  df <- load_dataset_into_data_frame(get_dataset_by_name(fx$ws, "people", version = 1))
  expect_s3_class(df, "data.frame")
  expect_identical(names(df), c("id", "name", "score", "passed", "seen"))
  expect_identical(df$id, 1:3)
  expect_identical(df$name, c("ann", NA, "cy"))
  expect_identical(df$score, c(1.5, 2.25, NA))
  expect_identical(df$passed, c(TRUE, FALSE, TRUE))
  expect_identical(df$seen, c("2026-01-02 03:04:05", NA, "2026-01-03 00:00:00"))  # CSV text stays text

  cnd <- expect_runyard_error(get_dataset_by_name(fx$ws, "nobody"), "runyard_not_found_error")
  expect_match(conditionMessage(cnd), "registered: people", fixed = TRUE)
  # The version rule is Python's: its error names the version.
  cnd <- expect_runyard_error(get_dataset_by_name(fx$ws, "people", version = 1.5), "runyard_config_error")
  expect_match(conditionMessage(cnd), "dataset version 1.5 must be 'latest' or a whole number", fixed = TRUE)
  expect_identical(nrow(load_dataset_into_data_frame(get_dataset_by_name(fx$ws, "people", version = 1))), 3L)
  files <- runyard_python()$Dataset$File$from_files(file.path(fx$src, "data"))$register(fx$ws, "raw")
  cnd <- expect_runyard_error(load_dataset_into_data_frame(files), "runyard_argument_error")
  expect_match(conditionMessage(cnd), "`dataset` must be a tabular dataset", fixed = TRUE)
})

test_that("Parquet columns of every kind keep their meaning in R", {
  skip_if_no_runyard()
  fx <- local_workspace()
  path <- file.path(fx$src, "table.parquet")
  reticulate::py_run_string(paste(
    "import pandas as pd",
    "pd.DataFrame({",
    "    'count': pd.array([1, None, 3], dtype='Int64'),",
    "    'big': [2**40, 1, 2],",
    "    'when': pd.to_datetime(['2026-01-02 03:04:05', None, '2026-07-01 12:00:00']),",
    "    'zoned': pd.to_datetime(['2026-01-02 03:04:05', '2026-01-02 03:04:05', None]).tz_localize('Europe/Berlin'),",
    "    'kind': pd.Categorical(['b', 'a', None], categories=['b', 'a']),",
    "}).to_parquet(r.path, index=False)",
    sep = "\n"))
  runyard_python()$Dataset$Tabular$from_parquet_files(path)$register(fx$ws, "kinds")
  df <- load_dataset_into_data_frame(get_dataset_by_name(fx$ws, "kinds"))
  expect_identical(df$count, c(1L, NA, 3L))
  expect_identical(df$big, c(2^40, 1, 2))
  expect_equal(df$when, as.POSIXct(c("2026-01-02 03:04:05", NA, "2026-07-01 12:00:00"), tz = "UTC"))
  expect_equal(df$zoned, as.POSIXct(c("2026-01-02 02:04:05", "2026-01-02 02:04:05", NA), tz = "UTC"))
  expect_identical(df$kind, factor(c("b", "a", NA), levels = c("b", "a")))
})
