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
