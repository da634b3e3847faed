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
  frame <- py_call(dataset$to_pandas_dataframe())
  if (is.data.frame(frame)) return(frame)
  pandas_to_data_frame(frame)
}

# Column by column through Python lists: reticulate 1.28 converts neither pandas 3's
# DataFrame (its class moved) nor numpy 2's arrays.
pandas_to_data_frame <- function(frame) {
  types <- reticulate::import("pandas.api.types")
  names <- as.character(unlist(lapply(reticulate::iterate(frame$columns), as.character)))
  every_row <- reticulate::import_builtins()$slice(NULL)
  columns <- lapply(seq_along(names), function(i) {
    series <- frame$iloc$`__getitem__`(reticulate::tuple(every_row, i - 1L))
    missing <- as.logical(unlist(series$isna()$tolist()))
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
  listed <- function(s) unlist(s$tolist())
  if (types$is_bool_dtype(series)) return(as.logical(listed(series$astype("object")$fillna(FALSE)$astype("bool"))))
  if (types$is_integer_dtype(series)) {
    values <- as.numeric(listed(series$astype("float64")))
    return(if (all(is.na(values) | abs(values) <= .Machine$integer.max)) as.integer(values) else values)
  }
  if (types$is_numeric_dtype(series)) return(as.numeric(listed(series$astype("float64"))))
  if (types$is_datetime64_any_dtype(series)) {
    if (!is.null(series$dt$tz)) series <- series$dt$tz_convert("UTC")$dt$tz_localize(NULL)
    pandas <- reticulate::import("pandas", convert = FALSE)  # R would turn a Timestamp into POSIXct
    seconds <- series$`__sub__`(pandas$Timestamp("1970-01-01"))$`__truediv__`(pandas$Timedelta(seconds = 1L))
    return(as.POSIXct(as.numeric(listed(seconds)), origin = "1970-01-01", tz = "UTC"))
  }
  if (identical(reticulate::py_str(series$dtype), "category")) {
    levels <- as.character(unlist(series$cat$categories$astype("str")$tolist()))
    codes <- as.integer(listed(series$cat$codes))
    return(factor(levels[ifelse(codes < 0L, NA, codes + 1L)], levels = levels))
  }
  as.character(listed(series$astype("object")$fillna("")$astype("str")))
}
