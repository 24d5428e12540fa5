;;;; Moving bytes across the boundary: borrowed C views into Lisp values,
;;;; Lisp strings and octets into what the C functions read.

(in-package #:c10k)

(deftype octets () '(simple-array (unsigned-byte 8) (*)))

(defun view-octets (pointer length)
  "A fresh octet vector holding LENGTH bytes at POINTER, copied with memcpy."
  (let ((vector (make-array length :element-type '(unsigned-byte 8))))
    (when (plusp length)
      (cffi:with-pointer-to-vector-data (data vector)
        (memcpy data pointer length)))
    vector))

(defun view-string (pointer length)
  "The LENGTH bytes at POINTER decoded as UTF-8 (invalid sequences become
U+FFFD rather than an error: the bytes come from the network). ASCII, the
usual case for heads, takes a direct path."
  (declare (type fixnum length))
  (if (loop for i fixnum below length
            always (< (cffi:mem-aref pointer :uint8 i) 128))
      (let ((string (make-string length)))
        (dotimes (i length string)
          (setf (schar string i) (code-char (cffi:mem-aref pointer :uint8 i)))))
      (let ((babel-encodings:*suppress-character-coding-errors* t))
        (cffi:foreign-string-to-lisp pointer :count length :encoding :utf-8))))

(defun string-octets (string)
  "STRING encoded as UTF-8."
  (babel:string-to-octets string :encoding :utf-8))

(defun body-octets (body)
  "An octet vector C can read without a further copy: a string is encoded as
UTF-8, a simple octet vector is used as it is, NIL is empty."
  (etypecase body
    (octets body)
    (string (string-octets body))
    (null (make-array 0 :element-type '(unsigned-byte 8)))
    (vector (coerce body 'octets))))

(defun header-text (thing)
  "A header name or value as a string: symbols are lowercased (:content-type
gives \"content-type\"), numbers printed."
  (typecase thing
    (string thing)
    (symbol (string-downcase (symbol-name thing)))
    (t (princ-to-string thing))))

(defconstant +stack-header-bytes+ 2048
  "Header blocks up to this size are built on the stack, larger ones on the heap.")

(defun header-field (thing)
  "A header name or value ready for PUT-FIELD: an ASCII string as it is (the
usual case, written without an intermediate vector), anything else as UTF-8
octets."
  (let ((text (header-text thing)))
    (if (every (lambda (c) (< (char-code c) 128)) text)
        text
        (string-octets text))))

(defun put-field (field pointer)
  "Writes FIELD (from HEADER-FIELD) at POINTER and returns its length."
  (etypecase field
    (simple-string
     (dotimes (i (length field))
       (setf (cffi:mem-aref pointer :uint8 i) (char-code (schar field i)))))
    (string
     (dotimes (i (length field))
       (setf (cffi:mem-aref pointer :uint8 i) (char-code (char field i)))))
    (octets
     (cffi:with-pointer-to-vector-data (data field)
       (memcpy pointer data (length field)))))
  (length field))

(defun call-with-header-array (headers function)
  "Calls FUNCTION with a foreign c10k_header array built from the alist
HEADERS and its length. The array and the bytes it points to live in one
block that is freed when FUNCTION returns (C copies what it keeps)."
  (let* ((count (length headers))
         (entry (load-time-value (cffi:foreign-type-size '(:struct c10k-header))))
         (fields (loop for (name . value) in headers
                       collect (header-field name)
                       collect (header-field value)))
         (size (+ (* count entry) (reduce #'+ fields :key #'length))))
    (flet ((fill-and-call (block)
             (loop with text = (cffi:inc-pointer block (* count entry))
                   for i from 0
                   for (name value) on fields by #'cddr
                   for header = (cffi:inc-pointer block (* i entry))
                   do (let ((length (put-field name text)))
                        (setf (cffi:foreign-slot-value header '(:struct c10k-header) 'name) text
                              (cffi:foreign-slot-value header '(:struct c10k-header) 'name-len) length
                              text (cffi:inc-pointer text length)))
                      (let ((length (put-field value text)))
                        (setf (cffi:foreign-slot-value header '(:struct c10k-header) 'value) text
                              (cffi:foreign-slot-value header '(:struct c10k-header) 'value-len) length
                              text (cffi:inc-pointer text length))))
             (funcall function block count)))
      (if (<= size +stack-header-bytes+)
          (cffi:with-foreign-pointer (block +stack-header-bytes+)
            (fill-and-call block))
          (let ((block (cffi:foreign-alloc :uint8 :count size)))
            (unwind-protect (fill-and-call block)
              (cffi:foreign-free block)))))))

(defmacro with-header-array ((array count) headers &body body)
  "Runs BODY with ARRAY, a foreign c10k_header array built from the alist
HEADERS, and COUNT its length; both are valid only within BODY."
  `(call-with-header-array ,headers (lambda (,array ,count) ,@body)))

(defmacro with-octets ((pointer length) octets &body body)
  "Runs BODY with POINTER to the data of the simple octet vector OCTETS
(pinned, not copied) and LENGTH its length."
  (let ((vector (gensym "OCTETS")))
    `(let ((,vector ,octets))
       (declare (type octets ,vector))
       (cffi:with-pointer-to-vector-data (,pointer ,vector)
         (let ((,length (length ,vector)))
           ,@body)))))

(defun url-decode (string &key plus-as-space)
  "Percent-decodes STRING (with c10k_percent_decode) and reads the result as
UTF-8. With PLUS-AS-SPACE, + becomes a space, as in query strings. Signals
C10K-ERROR for a malformed %XY."
  (let* ((input (string-octets string))
         (output (make-array (length input) :element-type '(unsigned-byte 8))))
    (cffi:with-foreign-object (written :size)
      (with-octets (in length) input
        (cffi:with-pointer-to-vector-data (out output)
          (check (c10k-percent-decode in length plus-as-space out length written)
                 "url-decode")))
      (let ((babel-encodings:*suppress-character-coding-errors* t))
        (babel:octets-to-string output :end (cffi:mem-ref written :size)
                                       :encoding :utf-8)))))
