# Fit a linear model in R, inside the pipeline step's Python process (RFunctionStep):
# `train` arrives as an R data.frame, the coefficients go back as a data.frame.
fit <- function(train, formula = "target ~ .") {
  model <- lm(as.formula(formula), data = train)
  data.frame(term = names(coef(model)), estimate = unname(coef(model)))
}
