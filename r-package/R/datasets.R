# Registered datasets read into R (runyard.data).

#' Get a registered dataset by name
#'
#' @param workspace A workspace.
#' @param name The dataset's name.
#' @param version A version number, or `"latest"`.
#' @return The dataset.
#' @examples
#' \dontrun{
#' ds <- get_dataset_by_name(ws, "diabetes", version = 2)
#' }
#' @export
get_dataset_by_name <- function(workspace, name, version = "latest") {
  py_invoke(rpy()$Dataset$get_by_name, workspace = workspace, name = name, version = version, .integers = "version")
}

#' Load a tabular dataset into a data frame
#'
#' Reads every file of the dataset (delimited or Parquet) into one data frame,
#' through pandas: integer, double, logical, text, date-time (as UTC `POSIXct`)
#' and categorical (as factor) columns, with `NA` where pandas has a missing value.
#'
#' @param dataset A tabular dataset (from [get_dataset_by_name()]).
#' @return A data frame.
#' @examples
#' \dontrun{
#' df <- load_dataset_into_data_frame(get_dataset_by_name(ws, "diabetes"))
#' }
#' @export
load_dataset_into_data_frame <- function(dataset) {
  # R calls the dataset's own method, so R checks what it is.
  check_class(dataset, "runyard.data.dataset.TabularDataset", "dataset",
              "a tabular dataset (from get_dataset_by_name())")
  # not converted by reticulate: 1.28 turns pandas 2's frames (through numpy 2) into garbage
  builtins <- reticulate::import_builtins(convert = FALSE)
  frame <- py_call(builtins$getattr(dataset, "to_pandas_dataframe")$`__call__`())
  pandas_to_data_frame(frame)
}

# Column by column through Python lists, from an unconverted pandas DataFrame: reticulate 1.28
# converts neither pandas 3's DataFrame (its class moved) nor numpy 2's arrays.
pandas_to_data_frame <- function(frame) {
  r <- reticulate::py_to_r
  types <- reticulate::import("pandas.api.types", convert = FALSE)
  names <- as.character(unlist(r(frame$columns$astype("str")$tolist())))
  every_row <- reticulate::import_builtins(convert = FALSE)$slice(NULL)
  columns <- lapply(seq_along(names), function(i) {
    series <- frame$iloc$`__getitem__`(reticulate::tuple(every_row, i - 1L, convert = FALSE))
    missing <- as.logical(unlist(r(series$isna()$tolist())))
    values <- pandas_column(series, types)
    if (!is.factor(values)) values[missing] <- NA
    values
  })
  names(columns) <- names
  frame <- as.data.frame(columns, stringsAsFactors = FALSE, check.names = FALSE)
  if (!length(columns)) frame <- data.frame()
  frame
}

pandas_column <- function(series, types) {
  r <- reticulate::py_to_r
  listed <- function(s) unlist(r(s$tolist()))
  is <- function(test) isTRUE(r(test(series)))
  if (is(types$is_bool_dtype)) return(as.logical(listed(series$astype("object")$fillna(FALSE)$astype("bool"))))
  if (is(types$is_integer_dtype)) {
    values <- as.numeric(listed(series$astype("float64")))
    return(if (all(is.na(values) | abs(values) <= .Machine$integer.max)) as.integer(values) else values)
  }
  if (is(types$is_numeric_dtype)) return(as.numeric(listed(series$astype("float64"))))
  if (is(types$is_datetime64_any_dtype)) {
    if (!is.null(r(series$dt$tz))) series <- series$dt$tz_convert("UTC")$dt$tz_localize(NULL)
    pandas <- reticulate::import("pandas", convert = FALSE)
    seconds <- series$`__sub__`(pandas$Timestamp("1970-01-01"))$`__truediv__`(pandas$Timedelta(seconds = 1L))
    return(as.POSIXct(as.numeric(listed(seconds)), origin = "1970-01-01", tz = "UTC"))
  }
  if (identical(reticulate::py_str(series$dtype), "category")) {
    levels <- as.character(listed(series$cat$categories$astype("str")))
    codes <- as.integer(listed(series$cat$codes))
    return(factor(levels[ifelse(codes < 0L, NA, codes + 1L)], levels = levels))
  }
  as.character(listed(series$astype("object")$fillna("")$astype("str")))
}

#' A file dataset
#'
#' azuremlsdk's `create_file_dataset_from_files()`: the files `path` names, for a
#' [parallel_run_step()] (each mini batch is a character vector of their paths)
#' or to register. Nothing is copied until a run reads them.
#'
#' @param path A local path or URL (globs allowed: `"images/*.png"`), or a
#'   character vector of them; a folder gives every file below it.
#' @param validate If `TRUE`, the files are listed now, so a path that names none is an error here.
#' @return A file dataset.
#' @examples
#' \dontrun{
#' images <- create_file_dataset_from_files("data/images")
#' }
#' @export
create_file_dataset_from_files <- function(path, validate = TRUE) {
  py_invoke(rpy()$Dataset$File$from_files, path = path, validate = validate, .paths = "path")
}

#' A tabular dataset of delimited files
#'
#' azuremlsdk's `create_tabular_dataset_from_delimited_files()`: a table in CSV
#' (or other delimited) files. With `partition_format`, parts of each file's path
#' become columns, and partition keys for a [parallel_run_config()]'s
#' `partition_keys`: `"{store}.csv"` makes `store` a key, one partition per file.
#'
#' @param path A local path or URL (globs allowed: `"data/*.csv"`), or a character vector of them.
#' @param validate If `TRUE`, each file's start is checked now (columns, partition paths).
#' @param include_path If `TRUE`, a `Path` column holds each row's file.
#' @param infer_column_types If `TRUE`, the columns' types are inferred from their values; else text.
#' @param set_column_types A named list: column name = type (`"string"`, `"long"`,
#'   `"float"`, `"bool"` or `"datetime"`).
#' @param separator The column separator.
#' @param header If `TRUE`, the first line of each file names the columns.
#' @param partition_format A pattern of the files' paths, relative to `path`
#'   (`"{store}/{week}.csv"`), whose parts become text columns.
#' @param support_multi_line If `TRUE`, a quoted value may hold line breaks.
#' @param empty_as_string If `TRUE`, an empty value is `""`, not missing.
#' @return A tabular dataset.
#' @examples
#' \dontrun{
#' sales <- create_tabular_dataset_from_delimited_files("data/sales", partition_format = "{store}.csv")
#' }
#' @export
create_tabular_dataset_from_delimited_files <- function(path, validate = TRUE, include_path = FALSE,
                                                        infer_column_types = TRUE, set_column_types = NULL,
                                                        separator = ",", header = TRUE, partition_format = NULL,
                                                        support_multi_line = FALSE, empty_as_string = FALSE) {
  py_invoke(rpy()$Dataset$Tabular$from_delimited_files, path = path, validate = validate,
            include_path = include_path, infer_column_types = infer_column_types,
            set_column_types = set_column_types, separator = separator, header = header,
            partition_format = partition_format, support_multi_line = support_multi_line,
            empty_as_string = empty_as_string, .dicts = "set_column_types", .paths = "path")
}
